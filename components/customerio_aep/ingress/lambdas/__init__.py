"""Lambda handler code: standard library and boto3 only, so packages stay small and cold starts short."""

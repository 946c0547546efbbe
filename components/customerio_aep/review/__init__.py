"""`python -m customerio_aep review`: a stack's `pulumi preview --json` as Markdown for a pull request."""

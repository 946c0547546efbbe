"""What Customer.io's App API says when it refuses a call."""

from __future__ import annotations

import requests


def error_detail(response: requests.Response) -> str:
    """What an error answer says, on one line and short (an answer may be anything: HTML, JSON of any shape). The App
    API words its errors as `{"meta": {"error": …}}` or `{"errors": [{"detail": …}]}`."""
    try:
        body = response.json()
    except ValueError:
        return " ".join(response.text.split())[:200]
    meta = body.get("meta") if isinstance(body, dict) else None
    errors = body.get("errors") if isinstance(body, dict) else None
    said = meta.get("error") if isinstance(meta, dict) else None
    if not said and isinstance(errors, list):
        said = "; ".join(str(e.get("detail", e)) if isinstance(e, dict) else str(e) for e in errors)
    return " ".join(str(said or body).split())[:200]

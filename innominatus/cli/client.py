"""A small HTTP client for the innominatus REST API: bearer auth, problem+json errors, `next` links."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin

import requests

from innominatus.cli.errors import AUTH, UNAVAILABLE, ApiError, CliError

USER_AGENT = "innominatus-ctl/0.1"
TIMEOUT = (10.0, 60.0)  # connect, read


def _problem(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        text = response.text.strip().splitlines()[0][:200] if response.text.strip() else ""
        body = {"title": response.reason or f"HTTP {response.status_code}", "detail": text or None}
    if response.status_code == 429 and response.headers.get("Retry-After"):
        body.setdefault("retry_after", response.headers["Retry-After"])
    return body


class Client:
    """One server, one token (or none for offline-capable and public calls)."""

    def __init__(self, server: str, token: str | None = None) -> None:
        self.server = server.rstrip("/")
        self.token = token
        self.session = requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        self.session.headers["Accept"] = "application/json"
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def url(self, path: str) -> str:
        return (
            path if path.startswith(("http://", "https://")) else urljoin(self.server + "/", path.lstrip("/"))
        )

    def request(
        self, method: str, path: str, *, require_auth: bool = True, **kwargs: Any
    ) -> requests.Response:
        if require_auth and not self.token:
            raise CliError(
                f"not signed in to {self.server}: run `innominatus-ctl login` or set INNOMINATUS_TOKEN",
                exit_code=AUTH,
            )
        kwargs.setdefault("timeout", TIMEOUT)
        try:
            response = self.session.request(method, self.url(path), **kwargs)
        except requests.ConnectionError as exc:
            raise CliError(f"cannot reach {self.server}: {_reason(exc)}", exit_code=UNAVAILABLE) from None
        except requests.Timeout:
            raise CliError(f"{self.server} did not answer in time", exit_code=UNAVAILABLE) from None
        except requests.RequestException as exc:
            raise CliError(f"request to {self.server} failed: {exc}", exit_code=UNAVAILABLE) from None
        if response.status_code >= 400:
            raise ApiError(response.status_code, _problem(response))
        return response

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.request(method, path, **kwargs)
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise CliError(f"{self.server} answered {path} with something other than JSON") from None

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.json("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.json("POST", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Any:
        return self.json("DELETE", path, **kwargs)

    def paginate(
        self, path: str, params: dict[str, Any] | None = None, limit: int | None = None
    ) -> Iterator[Any]:
        """Every item of a list, following `next` links (never `count`, which may be an estimate)."""
        url: str | None = path
        query = {key: value for key, value in (params or {}).items() if value not in (None, "")}
        seen = 0
        while url:
            body = self.get(url, params=query)
            query = {}  # `next` carries the query already
            if isinstance(body, list):
                items, url = body, None
            else:
                items, url = body.get("results", []), body.get("next")
            for item in items:
                yield item
                seen += 1
                if limit is not None and seen >= limit:
                    return


def _reason(exc: Exception) -> str:
    text = str(exc)
    if "Connection refused" in text:
        return "connection refused"
    if "Name or service not known" in text or "nodename nor servname" in text:
        return "unknown host"
    return text.split(": ")[-1][:200]

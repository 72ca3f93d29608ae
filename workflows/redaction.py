"""The one redaction of text innominatus stores or shows: step log lines, errors, transition reasons,
deploy messages. Every secret value of the application's resources (its own and those it binds to)
is replaced before the text reaches the database, so neither viewers nor the tables see it in clear."""

from collections.abc import Iterable

REDACTED = "***"
# Shorter values ("1", "true", a port) would blank out ordinary words; secrets are generated longer.
MIN_SECRET_CHARS = 4


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret value (4+ characters, longest first) replaced by ***."""
    values = sorted({s for s in secrets if s and len(s) >= MIN_SECRET_CHARS}, key=len, reverse=True)
    for value in values:
        if value in text:
            text = text.replace(value, REDACTED)
    return text


def app_secret_values(app_name: str) -> list[str]:
    """The decrypted secret values of every resource the application owns or binds to."""
    # Imported here: the models call this module, and the lookup needs the models.
    from workflows.services.secrets import app_secrets

    return app_secrets(app_name)


def redact_for_app(text: str, *, app_name: str, secrets: Iterable[str] = ()) -> str:
    """`text` redacted of `secrets` and of the application's stored secret values (read only when
    there is text to redact)."""
    if not text:
        return text
    return redact(text, [*secrets, *(app_secret_values(app_name) if app_name else ())])

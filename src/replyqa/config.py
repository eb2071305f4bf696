"""Settings from REPLYQA_* environment variables; read only by the CLI and API edges."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from .artifacts import DEFAULT_MODELS_DIR

PROJECT_ROOT = DEFAULT_MODELS_DIR.parent


class Settings(BaseSettings):
    """Everything an operator can set, with defaults that work on a fresh clone."""

    model_config = SettingsConfigDict(env_prefix="REPLYQA_", env_file=None, extra="ignore")

    models_dir: Path = DEFAULT_MODELS_DIR
    data_dir: Path = PROJECT_ROOT / "data" / "labeled"
    devset_dir: Path = PROJECT_ROOT.parent / "shared" / "devset"
    reports_dir: Path = PROJECT_ROOT / "reports"
    sla_policy: Path | None = None
    policies_dir: Path | None = None
    admin_token: str | None = Field(default=None, repr=False)
    max_batch: int = 1000
    max_text_bytes: int = 100_000
    max_body_bytes: int = 20_000_000
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    watch_model: bool = True


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (cached; tests clear or override it)."""
    return Settings()

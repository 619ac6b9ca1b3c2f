"""Settings: packaged defaults, then the center's YAML file, then the environment.

Every process (web, worker, CLI) builds the same `Settings` from the same sources, so a gunicorn
worker and an RQ worker on another machine agree on lines, queues and URLs.
"""

from __future__ import annotations

import copy
import os
import secrets
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

# Environment variable -> dotted path in the settings tree.
ENV_OVERRIDES = {
    "IVR_PUBLIC_URL": "public_url",
    "IVR_REDIS_URL": "redis.url",
    "IVR_RQ_REDIS_URL": "redis.rq_url",
    "IVR_DATABASE_URL": "database.url",
    "IVR_TWILIO_API_BASE": "twilio.api_base",
    "TWILIO_ACCOUNT_SID": "twilio.account_sid",
    "IVR_CENTER": "center",
    "IVR_DATA_DIR": "data_dir",
    "IVR_EMULATOR_URL": "twilio.api_base",  # `ivr serve --emulate`: the carrier is the emulator
}


class ConfigError(Exception):
    """A setting is missing or malformed; the message names it."""


@dataclass(frozen=True)
class Line:
    name: str
    numbers: tuple[str, ...]
    flow: str


@dataclass(frozen=True)
class Settings:
    center: str
    public_url: str
    data_dir: Path
    timezone: str
    default_region: str
    redis_url: str
    database_url: str
    account_sid: str
    auth_token: str
    api_base: str
    lines: dict[str, Line]
    default_line: str
    fallback_number: str | None
    fallback_queue: str
    secret_key: str
    env_log_key: str = field(repr=False, default="")  # IVR_LOG_KEY, when set
    # RQ's Redis when it is not `redis_url`: RQ's worker cannot run on a Redis Cluster.
    rq_redis_url: str = ""
    emulator_url: str = ""  # IVR_EMULATOR_URL: `ivr serve --emulate`'s carrier (else empty)
    raw: dict[str, Any] = field(repr=False, compare=False, default_factory=dict)

    @cached_property
    def log_key(self) -> str:
        """The key of the log masks (`ivr.platform.phones.mask`): ``IVR_LOG_KEY``, else the one
        kept in the data directory, made there at first use. Read lazily, so a command that
        masks no number (``ivr flows validate``, ``ivr staffing``) leaves the folder it runs
        in untouched; the web process asks for it at start (`ivr.app.create_app`)."""
        return self.env_log_key or local_log_key(self.data_dir)


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict) and key != "lines":
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _set_path(tree: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, leaf = dotted.split(".")
    for name in parents:
        tree = tree.setdefault(name, {})
    tree[leaf] = value


def default_tree() -> dict[str, Any]:
    return _packaged("config.yaml")


def _packaged(name: str) -> dict[str, Any]:
    text = resources.files("ivr").joinpath(f"defaults/{name}").read_text("utf-8")
    return yaml.safe_load(text)


def load_settings(
    path: str | os.PathLike[str] | None = None,
    overrides: dict[str, Any] | None = None,
    env: dict[str, str] | None = None,
) -> Settings:
    """Build settings. `path` defaults to $IVR_CONFIG, then ./config.yaml if present.

    `overrides` (a partial tree) is applied after the file and before the environment; tests use it.
    """
    env = dict(os.environ if env is None else env)
    tree = default_tree()
    path = path or env.get("IVR_CONFIG")
    if path is None and Path("config.yaml").is_file():
        path = "config.yaml"
    if path is not None:
        try:
            loaded = yaml.safe_load(Path(path).read_text("utf-8")) or {}
        except OSError as exc:
            raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
        except yaml.YAMLError as exc:
            raise ConfigError(f"config file {path} is not valid YAML: {exc}") from exc
        if not isinstance(loaded, dict):
            raise ConfigError(f"config file {path} must hold a mapping of settings")
        tree = _merge(tree, loaded)
    if overrides:
        tree = _merge(tree, overrides)
    if env.get("IVR_EMULATOR_URL") and not tree.get("dispatch_centers"):
        tree = _merge(tree, _packaged("emulated.yaml"))  # a dispatch center that answers
    for var, dotted in ENV_OVERRIDES.items():
        if env.get(var):
            _set_path(tree, dotted, env[var])
    return _settings_from_tree(tree, env)


def _settings_from_tree(tree: dict[str, Any], env: dict[str, str]) -> Settings:
    data_dir = Path(tree.get("data_dir") or "var")
    db_url = (tree.get("database") or {}).get("url") or f"sqlite:///{data_dir / 'ivr.db'}"
    lines: dict[str, Line] = {}
    for name, spec in (tree.get("lines") or {}).items():
        if not isinstance(spec, dict) or "flow" not in spec:
            raise ConfigError(f"line {name!r} needs a 'flow'")
        lines[str(name)] = Line(str(name), tuple(str(n) for n in spec.get("numbers", ())),
                                str(spec["flow"]))
    default_line = str(tree.get("default_line") or "")
    if default_line not in lines:
        raise ConfigError(f"default_line {default_line!r} is not one of the lines {sorted(lines)}")
    fallback = tree.get("fallback") or {}
    redis_url = str((tree.get("redis") or {}).get("url") or "embedded")
    rq_redis_url = str((tree.get("redis") or {}).get("rq_url") or "")
    if urlsplit(rq_redis_url or redis_url).scheme in ("redis+cluster", "rediss+cluster"):
        raise ConfigError("RQ does not run on a Redis Cluster: set IVR_RQ_REDIS_URL to a "
                          "redis:// or redis+sentinel:// address for the background jobs")
    return Settings(
        center=str(tree["center"]),
        public_url=str(tree["public_url"]).rstrip("/"),
        data_dir=data_dir,
        timezone=str(tree.get("timezone") or "UTC"),
        default_region=str(tree.get("default_region") or "US"),
        redis_url=redis_url,
        rq_redis_url=rq_redis_url,
        database_url=str(db_url),
        account_sid=str(tree["twilio"]["account_sid"]),
        # Secrets only from the environment. Without a Twilio token (a local trial), a random one is
        # made for this process tree: webhooks still demand a valid signature, which only the
        # local emulator (told the same token) can produce.
        auth_token=env.get("TWILIO_AUTH_TOKEN") or "",
        api_base=str(tree["twilio"]["api_base"]).rstrip("/"),
        lines=lines,
        default_line=default_line,
        fallback_number=fallback.get("number"),
        fallback_queue=str(fallback.get("queue") or "general"),
        secret_key=env.get("IVR_SECRET_KEY") or "",
        env_log_key=env.get("IVR_LOG_KEY") or "",
        emulator_url=(env.get("IVR_EMULATOR_URL") or "").rstrip("/"),
        raw=tree,
    )


LOG_KEY_FILE = "log.key"


def local_log_key(data_dir: Path) -> str:
    """The key of the log masks when ``IVR_LOG_KEY`` is not set: made once, at random, and kept
    in the data directory (mode 0600), so masks stay the same across restarts and processes of
    one machine. Several machines of one center share ``IVR_LOG_KEY`` through the environment.
    """
    path = data_dir / LOG_KEY_FILE
    try:
        return path.read_text("ascii").strip()
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise ConfigError(f"cannot read the log key {path}: {exc.strerror}") from exc
    key = secrets.token_hex(32)
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: theirs is the key
        return path.read_text("ascii").strip()
    except OSError as exc:
        raise ConfigError(f"cannot make the log key {path}: {exc.strerror}; "
                          "set IVR_LOG_KEY") from exc
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(key + "\n")
    return key


def ensure_local_secrets(env: dict[str, str] | os._Environ[str] = os.environ) -> list[str]:
    """For a local trial with no secrets set: make random ones for this process tree.

    Returns the names that were generated, so the caller can say so. Child processes (gunicorn
    workers, the RQ worker) inherit them through the environment.
    """
    made = []
    for name in ("TWILIO_AUTH_TOKEN", "IVR_SECRET_KEY"):
        if not env.get(name):
            env[name] = secrets.token_hex(16)
            made.append(name)
    return made

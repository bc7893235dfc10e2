"""Derive the Meltano Hub files, meltano.yml's plugin settings and the packages' URLs.

The plugins declare their settings once (singer-sdk typing helpers); this script turns
`<plugin> --about --format=json` into the Hub's plugin-definition format, the way the Hub's
own `hub-utils` does for SDK plugins, and into the `settings` of the custom plugins in
meltano.yml, so that the three never drift apart. The project's public URL is kept in one
place, `[tool.erp-to-akeneo]` of the root pyproject.toml; the Hub's `repo` and each package's
`[project.urls]` are filled from it.

    python scripts/plugin_definitions.py          # rewrite hub/, meltano.yml, [project.urls]
    python scripts/plugin_definitions.py --check  # exit 1 and name what is stale
"""

from __future__ import annotations

import argparse
import io
import json
import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parent.parent
PROJECT: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))[
    "tool"
]["erp-to-akeneo"]
VARIANT: str = PROJECT["variant"]
URL: str = PROJECT["url"]


@dataclass(frozen=True)
class Plugin:
    """Static Hub metadata of one plugin; settings and capabilities come from --about."""

    name: str
    plugin_type: str  # "extractors" or "loaders"
    namespace: str
    label: str
    description: str
    keywords: tuple[str, ...]
    domain_url: str
    extras: tuple[str, ...]
    settings_group_validation: tuple[tuple[str, ...], ...]

    @property
    def hub_path(self) -> Path:
        return ROOT / "hub" / self.plugin_type / self.name / f"{VARIANT}.yml"

    @property
    def logo(self) -> Path:
        """The logo file that goes to the Hub's `static/assets/logos/<type>/`."""
        return ROOT / "hub" / "logos" / self.plugin_type / f"{self.name}.svg"

    @property
    def repo(self) -> str:
        # The Hub's tooling tells a tap from a target by its repo URL: a folder URL says it.
        return f"{URL}/tree/main/{self.name}"

    @property
    def pip_url(self) -> str:
        return f"{self.name}[{','.join(self.extras)}]" if self.extras else self.name


PLUGINS = (
    Plugin(
        name="tap-erp-xml",
        plugin_type="extractors",
        namespace="tap_erp_xml",
        label="ERP XML product exports",
        description="Streams ERP XML product exports (large, namespaced, old encodings; "
        "local, SFTP or S3) as typed records, incrementally",
        keywords=("file", "xml", "erp", "bmecat", "meltano_sdk"),
        domain_url="https://www.w3.org/XML/",
        extras=("s3", "sftp"),
        # `files` may be given per stream, so only `streams` is required.
        settings_group_validation=(("streams",),),
    ),
    Plugin(
        name="target-akeneo",
        plugin_type="loaders",
        namespace="target_akeneo",
        label="Akeneo PIM",
        description="Maps records onto Akeneo PIM products and upserts them in batches "
        "through the Akeneo REST API",
        keywords=("akeneo", "pim", "api", "meltano_sdk"),
        domain_url="https://www.akeneo.com/",
        extras=(),
        settings_group_validation=(
            ("base_url", "client_id", "secret", "username", "password", "mapping"),
            ("base_url", "client_id", "secret", "username", "password", "mapping_file"),
        ),
    ),
)

# JSON numbers get Meltano's `string` kind: Meltano 4.4 fails on a `decimal`-kind value that
# comes from an environment variable (its JSON encoder has no Decimal); the plugin parses it.
_KINDS = {"integer": "integer", "number": "string", "boolean": "boolean", "array": "array"}


def about(plugin: Plugin) -> dict[str, Any]:
    """Run the installed plugin's `--about --format=json`."""
    exe = Path(sys.executable).parent / plugin.name
    out = subprocess.run(
        [str(exe), "--about", "--format=json"], check=True, capture_output=True, text=True
    ).stdout
    result: dict[str, Any] = json.loads(out)
    return result


def _types(schema: dict[str, Any]) -> list[str]:
    """The non-null JSON types a schema allows, alternatives (`anyOf`/`oneOf`) included."""
    found: list[str] = []
    for alternative in [schema, *schema.get("anyOf", []), *schema.get("oneOf", [])]:
        if not isinstance(alternative, dict):
            continue
        types = alternative.get("type", [])
        found += [types] if isinstance(types, str) else types
    return [t for t in found if t != "null"]


def _kind(schema: dict[str, Any]) -> str:
    types = _types(schema)
    if "enum" in schema:
        return "options"
    if schema.get("format") == "date-time":
        return "date_iso8601"
    # A value that may be a list (Faker's `locale`: one string or several) is entered as one.
    for container in ("array", "object"):
        if container in types:
            return container
    return _KINDS.get(types[0] if types else "string", "string")


def _is_open_map(schema: dict[str, Any]) -> bool:
    """An object whose keys are the user's (`stream_maps`): one setting, not dotted names."""
    return isinstance(schema.get("additionalProperties"), dict) or not schema.get("properties")


def _option_label(value: object) -> str:
    return str(value).replace("-", " ").replace("_", " ").title()


def settings_of(schema: dict[str, Any], prefix: str = "") -> list[dict[str, Any]]:
    """Flatten a config JSON schema into Meltano settings, sorted by name.

    An object with fixed properties becomes dotted names (`s3.region`); an open map such as
    `stream_maps` stays one setting of kind `object`, as the Hub declares it for SDK plugins.
    """
    settings: list[dict[str, Any]] = []
    for name, prop in schema.get("properties", {}).items():
        full = f"{prefix}{name}"
        if _kind(prop) == "object" and not _is_open_map(prop):
            settings.extend(settings_of(prop, f"{full}."))
            continue
        setting: dict[str, Any] = {"name": full, "kind": _kind(prop)}
        setting["label"] = prop.get("title") or name.replace("_", " ").title()
        if prop.get("description"):
            setting["description"] = " ".join(prop["description"].split())
        if "default" in prop and prop["default"] is not None:
            setting["value"] = prop["default"]
        if "enum" in prop:
            setting["options"] = [
                {"label": _option_label(v), "value": v} for v in prop["enum"] if v is not None
            ]
        if prop.get("secret") or prop.get("writeOnly"):
            setting["sensitive"] = True
        settings.append(setting)
    return sorted(settings, key=lambda s: str(s["name"]))


def problems_of(settings: list[dict[str, Any]]) -> list[str]:
    """What the Hub's tooling would choke on: its description clean-up fails on `...`."""
    return [
        f"setting {s['name']}: description contains '...' (use an ellipsis or 'and so on')"
        for s in settings
        if "..." in s.get("description", "")
    ]


def hub_definition(plugin: Plugin, info: dict[str, Any]) -> dict[str, Any]:
    """The Hub's plugin definition (keys sorted as the Hub's yamllint wants)."""
    capabilities = sorted(info["capabilities"])
    definition: dict[str, Any] = {
        "capabilities": capabilities,
        "description": plugin.description,
        "domain_url": plugin.domain_url,
        "keywords": list(plugin.keywords),
        "label": plugin.label,
        "logo_url": f"/assets/logos/{plugin.plugin_type}/{plugin.logo.name}",
        "maintenance_status": "beta",
        "name": plugin.name,
        "namespace": plugin.namespace,
        "pip_url": plugin.pip_url,
        "quality": "silver",
        "repo": plugin.repo,
        "settings": settings_of(info["settings"]),
        "settings_group_validation": [list(g) for g in plugin.settings_group_validation],
        "supported_python_versions": ["3.11", "3.12", "3.13"],
        "variant": VARIANT,
    }
    if "structured-logging" in capabilities:
        definition["log_parser"] = "singer-sdk"
    return dict(sorted(definition.items()))


def render_hub(definition: dict[str, Any]) -> str:
    return yaml.safe_dump(definition, sort_keys=True, allow_unicode=True, width=100)


def sync_meltano_yml(infos: dict[str, dict[str, Any]], check: bool) -> list[str]:
    """Put capabilities and settings from --about into meltano.yml's custom plugins."""
    ruamel = YAML()
    ruamel.preserve_quotes = True
    ruamel.width = 100
    ruamel.indent(mapping=2, sequence=2, offset=0)
    path = ROOT / "meltano.yml"
    before = path.read_text(encoding="utf-8")
    project = ruamel.load(before)
    for plugin in PLUGINS:
        entries = project["plugins"][plugin.plugin_type]
        entry = next(e for e in entries if e["name"] == plugin.name)
        entry["capabilities"] = sorted(infos[plugin.name]["capabilities"])
        entry["settings"] = settings_of(infos[plugin.name]["settings"])
        entry["settings_group_validation"] = [list(g) for g in plugin.settings_group_validation]
    buffer = io.StringIO()
    ruamel.dump(project, buffer)
    return _sync(path, before, buffer.getvalue(), check)


def project_urls(plugin_dir: str) -> str:
    """The `[project.urls]` table every package carries, filled from the one project URL."""
    return (
        "[project.urls]\n"
        f'Homepage = "{URL}"\n'
        f'Documentation = "{URL}/tree/main/{plugin_dir}#readme"\n'
        f'Repository = "{URL}"\n'
        f'Issues = "{URL}/issues"\n'
    )


def sync_project_urls(check: bool) -> list[str]:
    stale: list[str] = []
    for package in ("tap-erp-xml", "target-akeneo", "akeneo-sandbox"):
        path = ROOT / package / "pyproject.toml"
        before = path.read_text(encoding="utf-8")
        table = re.compile(r"^\[project\.urls\]\n(?:[^\[\n].*\n)*", re.MULTILINE)
        if not table.search(before):
            stale.append(f"{path.relative_to(ROOT)} has no [project.urls] table")
            continue
        after = table.sub(project_urls(package), before, count=1)
        stale += _sync(path, before, after, check)
    return stale


def _sync(path: Path, before: str, after: str, check: bool) -> list[str]:
    if after == before:
        return []
    if check:
        return [f"{path.relative_to(ROOT)} is out of date"]
    path.write_text(after, encoding="utf-8")
    return []


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report stale files, write none")
    args = parser.parse_args()
    infos = {plugin.name: about(plugin) for plugin in PLUGINS}
    stale: list[str] = []
    for plugin in PLUGINS:
        definition = hub_definition(plugin, infos[plugin.name])
        stale += [f"{plugin.name}: {p}" for p in problems_of(definition["settings"])]
        if not plugin.logo.is_file():
            stale.append(f"{plugin.name}: logo {plugin.logo.relative_to(ROOT)} is missing")
        current = plugin.hub_path.read_text(encoding="utf-8") if plugin.hub_path.exists() else ""
        plugin.hub_path.parent.mkdir(parents=True, exist_ok=True)
        stale += _sync(plugin.hub_path, current, render_hub(definition), args.check)
    stale += sync_meltano_yml(infos, args.check)
    stale += sync_project_urls(args.check)
    for line in stale:
        print(f"plugin_definitions: {line}; run python scripts/plugin_definitions.py")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())

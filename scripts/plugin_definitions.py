"""Derive the Meltano Hub files and the meltano.yml plugin settings from `--about`.

The plugins declare their settings once (singer-sdk typing helpers); this script turns
`<plugin> --about --format=json` into the Hub's plugin-definition format and into the
`settings` of the custom plugins in meltano.yml, so that the three never drift apart.

    python scripts/plugin_definitions.py          # rewrite hub/ and meltano.yml
    python scripts/plugin_definitions.py --check  # exit 1 and name what is stale
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parent.parent
VARIANT = "erp-to-akeneo"
REPO = "https://github.com/erp-to-akeneo/erp-to-akeneo"


@dataclass(frozen=True)
class Plugin:
    """Static Hub metadata of one plugin; settings and capabilities come from --about."""

    name: str
    plugin_type: str  # "extractors" or "loaders"
    namespace: str
    label: str
    description: str
    keywords: tuple[str, ...]
    settings_group_validation: tuple[tuple[str, ...], ...]

    @property
    def hub_path(self) -> Path:
        return ROOT / "hub" / self.plugin_type / self.name / f"{VARIANT}.yml"


PLUGINS = (
    Plugin(
        name="tap-erp-xml",
        plugin_type="extractors",
        namespace="tap_erp_xml",
        label="ERP XML product exports",
        description="Streams ERP XML product exports (large, namespaced, old encodings; "
        "local, SFTP or S3) as typed records, incrementally",
        keywords=("file", "xml", "erp", "bmecat", "meltano_sdk"),
        settings_group_validation=(("files", "streams"),),
    ),
    Plugin(
        name="target-akeneo",
        plugin_type="loaders",
        namespace="target_akeneo",
        label="Akeneo PIM",
        description="Maps records onto Akeneo PIM products and upserts them in batches "
        "through the Akeneo REST API",
        keywords=("akeneo", "pim", "api", "meltano_sdk"),
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


def _kind(schema: dict[str, Any]) -> str:
    types = schema.get("type", "string")
    types = [types] if isinstance(types, str) else [t for t in types if t != "null"]
    if "enum" in schema:
        return "options"
    if schema.get("format") == "date-time":
        return "date_iso8601"
    if types and types[0] == "object":
        return "object"
    return _KINDS.get(types[0] if types else "string", "string")


def settings_of(schema: dict[str, Any], prefix: str = "") -> list[dict[str, Any]]:
    """Flatten a config JSON schema into Meltano settings (objects become dotted names)."""
    settings: list[dict[str, Any]] = []
    for name, prop in schema.get("properties", {}).items():
        full = f"{prefix}{name}"
        if _kind(prop) == "object" and prop.get("properties"):
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
                {"label": str(v), "value": v} for v in prop["enum"] if v is not None
            ]
        if prop.get("secret") or prop.get("writeOnly"):
            setting["sensitive"] = True
        settings.append(setting)
    return settings


def hub_definition(plugin: Plugin, info: dict[str, Any]) -> dict[str, Any]:
    """The Hub's plugin definition (keys sorted as the Hub's yamllint wants)."""
    definition = {
        "capabilities": sorted(info["capabilities"]),
        "description": plugin.description,
        "keywords": list(plugin.keywords),
        "label": plugin.label,
        "maintenance_status": "beta",
        "name": plugin.name,
        "namespace": plugin.namespace,
        "pip_url": plugin.name,
        "quality": "silver",
        "repo": REPO,
        "settings": settings_of(info["settings"]),
        "settings_group_validation": [list(g) for g in plugin.settings_group_validation],
        "supported_python_versions": ["3.11", "3.12", "3.13"],
        "variant": VARIANT,
    }
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
    after = buffer.getvalue()
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
        text = render_hub(hub_definition(plugin, infos[plugin.name]))
        current = plugin.hub_path.read_text(encoding="utf-8") if plugin.hub_path.exists() else ""
        if text == current:
            continue
        if args.check:
            stale.append(f"{plugin.hub_path.relative_to(ROOT)} is out of date")
        else:
            plugin.hub_path.parent.mkdir(parents=True, exist_ok=True)
            plugin.hub_path.write_text(text, encoding="utf-8")
    stale += sync_meltano_yml(infos, args.check)
    for line in stale:
        print(f"plugin_definitions: {line}; run python scripts/plugin_definitions.py")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())

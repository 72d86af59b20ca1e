#!/usr/bin/env bash
# Install the Billing Connector from this checkout as a systemd service.
#
#   deploy/install.sh [--python PYTHON] [--pip-option OPTION]... [--no-compile] PREFIX
#
# PREFIX is / for the real thing (as root), or any folder to stage the same tree there
# without root (to look at it, or in the tests, which run the installed `connector`
# from it). Under PREFIX it makes:
#
#   opt/billing-connector/.venv            a venv with the connector and the built-in
#                                          plugins of this checkout (not editable: the
#                                          checkout can go away)
#   etc/billing-connector/connector.yaml   the daemon settings (database and output in
#                                          the state folder, tenants in tenants/)
#   etc/billing-connector/connector.env    the unit's environment (secrets), mode 0640
#   etc/billing-connector/tenants/acme.yaml.example
#                                          the example tenant: copy it to NAME.yaml
#   etc/systemd/system/billing-connector.service
#
# Under a PREFIX other than /, every /opt, /etc and /var/lib path in those files
# points into PREFIX, and var/lib/billing-connector is made (systemd's
# StateDirectory= makes it on a real install). Run again, it upgrades the venv, the
# unit and the example, and keeps connector.yaml and connector.env as they are (this
# version's are written beside them as NAME.dist). With PREFIX /, it also adds the
# system user "connector" and reloads systemd; it never enables or starts the service.
#
#   --python PYTHON      the Python 3.11+ the venv is made with [python3]
#   --pip-option OPTION  passed to `uv pip install` (pip's options), e.g.
#                        --pip-option=--no-index --pip-option=--find-links=/srv/wheels
#                        for a host without a package index
#   --no-compile         leave out the bytecode (half the install's CPU time): for a
#                        tree staged to be looked at or tested, not for a service
set -euo pipefail

python=python3
pip_options=()
compile=(--compile-bytecode)
while [[ $# -gt 0 ]]; do
  case "$1" in
    --python) python="$2"; shift 2 ;;
    --python=*) python="${1#*=}"; shift ;;
    --pip-option) pip_options+=("$2"); shift 2 ;;
    --pip-option=*) pip_options+=("${1#*=}"); shift ;;
    --no-compile) compile=(); shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) break ;;
  esac
done
if [[ $# -ne 1 ]]; then
  echo "usage: install.sh [--python PYTHON] [--pip-option OPTION]... [--no-compile] PREFIX" >&2
  exit 2
fi

root="${1%/}" # "" for /
if [[ -n "$root" && "$root" != /* ]]; then
  root="$PWD/$root"
fi
if [[ -z "$root" && "$(id -u)" != 0 ]]; then
  echo "install.sh: installing into / needs root (sudo); give another PREFIX to stage it" >&2
  exit 1
fi
src="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/opt/billing-connector/.venv"
etc="$root/etc/billing-connector"
state="$root/var/lib/billing-connector"
units="$root/etc/systemd/system"

# The distributions requirements.txt installs (the core and each built-in plugin),
# copied without build leftovers: a build/ folder in the checkout could put modules
# deleted since into the wheel.
staging="$(mktemp -d)"
trap 'rm -rf "$staging"' EXIT
distributions=()
while read -r flag path; do
  [[ "$flag" == "-e" ]] || continue
  path="${path%%\[*}"
  mkdir -p "$staging/$path"
  if [[ "$path" == "." ]]; then
    # The core: its top-level files and its package, not the plugins or the tests.
    find "$src" -maxdepth 1 -type f -exec cp {} "$staging/" \;
    tar -C "$src" -cf - --exclude=__pycache__ connector | tar -C "$staging" -xf -
    distributions+=("${staging}[postgres]")
  else
    tar -C "$src/$path" -cf - --exclude='./*.egg-info' --exclude=./build --exclude=./dist \
      --exclude=__pycache__ . | tar -C "$staging/$path" -xf -
    distributions+=("$staging/$path")
  fi
done <"$src/requirements.txt"

# uv installs the hundred-odd distributions in seconds where pip takes two minutes
# (resolution and unpacking one at a time, an isolated build per plugin). The one on
# PATH, or one installed for this run into a throwaway venv.
uv="$(command -v uv || true)"
if [[ -z "$uv" ]]; then
  if "$python" -m pip --version >/dev/null 2>&1; then
    "$python" -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
      --target "$staging/.uv" uv
  else # Debian's python3 has no pip, but venv's ensurepip
    "$python" -m venv "$staging/.uv"
    "$staging/.uv/bin/pip" install --quiet --disable-pip-version-check uv
  fi
  uv="$staging/.uv/bin/uv"
fi
echo "venv: $venv"
mkdir -p "$(dirname "$venv")"
"$python" -m venv --without-pip "$venv"
# pip too, for third-party plugins (`$venv/bin/pip install ...`); bytecode compiled
# now, as /opt is read-only to the service and Python could not cache it there.
"$uv" pip install --quiet --python "$venv/bin/python" "${compile[@]}" "${pip_options[@]}" \
  pip "${distributions[@]}"

# Paths inside the installed files: / stays as it is, another PREFIX is prepended.
# Comments are left as they are (they describe a real install).
rewrite() {
  sed -e "/^ *#/!s#/opt/billing-connector#$root/opt/billing-connector#g" \
    -e "/^ *#/!s#/etc/billing-connector#$root/etc/billing-connector#g" \
    -e "/^ *#/!s#/var/lib/billing-connector#$root/var/lib/billing-connector#g"
}

# Writes stdin to $1 with mode $2.
write() {
  install -m "$2" /dev/stdin "$1"
  echo "wrote: $1"
}

# The same for a file the operator edits: one that exists is kept, and stdin goes to
# $1.dist beside it.
place() {
  if [[ -e "$1" ]]; then
    install -m "$2" /dev/stdin "$1.dist"
    echo "kept:  $1 (this version's is $1.dist)"
  else
    write "$1" "$2"
  fi
}

mkdir -p "$etc/tenants" "$units"
# The settings: the SQLite database and output_dir in the state folder; tenants_dir
# stays relative (etc/billing-connector/tenants).
sed -e "s#^database_url: sqlite:///.*#database_url: sqlite:////var/lib/billing-connector/connector.db#" \
  -e "s#^output_dir: .*#output_dir: /var/lib/billing-connector/out#" \
  "$src/config/connector.yaml" | rewrite | place "$etc/connector.yaml" 0640
rewrite <"$src/deploy/connector.env.example" | place "$etc/connector.env" 0640
# The example tenant reads the demo's AWS data from the installed package and writes
# its ERP import files to the state folder (etc/ is read-only to the service).
demo_data="$("$venv/bin/python" -I -c 'import connector, pathlib; print(pathlib.Path(connector.__file__).parent / "demo_data" / "aws")')"
sed -e "s#^\( *output_dir:\) erp #\1 /var/lib/billing-connector/out/acme/erp #" \
  "$src/config/tenants/acme.yaml" | rewrite |
  sed -e "s#^\( *path:\) ../../connector/demo_data/aws#\1 $demo_data#" |
  write "$etc/tenants/acme.yaml.example" 0644
# Changes to the unit belong in a drop-in (systemctl edit billing-connector).
rewrite <"$src/deploy/billing-connector.service" | write "$units/billing-connector.service" 0644

if [[ -n "$root" ]]; then
  mkdir -p "$state"
  echo "staged under $root: run $venv/bin/connector --config $etc/connector.yaml check-config"
  exit 0
fi

if ! id -u connector >/dev/null 2>&1; then
  useradd --system --home-dir /var/lib/billing-connector --no-create-home \
    --shell /usr/sbin/nologin connector
  echo "added system user connector"
fi
# The daemon reads these as user connector; they may hold secrets.
chgrp connector "$etc/connector.yaml" "$etc/connector.env"
if [[ -d /run/systemd/system ]]; then
  systemctl daemon-reload
fi
cat <<EOF
installed. Next:
  edit $etc/connector.env (secrets) and $etc/connector.yaml
  cp $etc/tenants/acme.yaml.example $etc/tenants/NAME.yaml, edit it, and check it:
    sudo -u connector $venv/bin/connector --config $etc/connector.yaml check-config
  systemctl enable --now billing-connector
EOF

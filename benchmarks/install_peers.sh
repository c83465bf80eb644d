#!/usr/bin/env bash
# Installs the peers that tapeflow's benchmarks compare against, on Debian bookworm, as root:
#   - LibTorch (C++, found by meson) and PyTorch for /usr/bin/python3: Debian's 1.13 packages;
#   - TensorFlow (CPU) in a venv at ${TAPEFLOW_PEERS_DIR:-/opt/tapeflow-peers}/tf.
# Idempotent: whatever is already present is left alone. Check afterwards with
#   benchmarks/peers/check_peers.sh
set -euo pipefail

peers_dir="${TAPEFLOW_PEERS_DIR:-/opt/tapeflow-peers}"
venv="$peers_dir/tf"
tf_package=tensorflow-cpu
tf_version=2.20.0
apt_packages=(libtorch-dev python3-torch python3-numpy python3-venv)

if [[ $EUID != 0 ]]; then
  echo "install_peers.sh: run as root (it uses apt-get and writes $peers_dir)" >&2
  exit 1
fi

missing=()
for package in "${apt_packages[@]}"; do
  if dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    echo "apt: $package already installed"
  else
    missing+=("$package")
  fi
done
if ((${#missing[@]})); then
  echo "apt: installing ${missing[*]}"
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
fi

if [[ -x "$venv/bin/python" ]]; then
  echo "venv: $venv already exists"
else
  echo "venv: creating $venv"
  mkdir -p "$peers_dir"
  /usr/bin/python3 -m venv "$venv"
fi

installed="$("$venv/bin/python" -c "import importlib.metadata as m; print(m.version('$tf_package'))" \
  2>/dev/null || true)"
if [[ "$installed" == "$tf_version" ]]; then
  echo "pip: $tf_package $tf_version already installed in $venv"
else
  echo "pip: installing $tf_package==$tf_version into $venv${installed:+ (found $installed)}"
  "$venv/bin/pip" install --no-input "$tf_package==$tf_version"
fi

echo "peers ready: PyTorch: /usr/bin/python3; TensorFlow: $venv/bin/python"

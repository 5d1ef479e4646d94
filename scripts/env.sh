# Sourced by the scripts: the tool paths setup.sh installs, and where builds go.
tools_dir="${ROSTER_TOOLS_DIR:-$HOME/.local/share/roster-tools}"
export PATH="$HOME/.cargo/bin:$tools_dir/node_modules/.bin:$PATH"
target_dir="${CARGO_TARGET_DIR:-$root/target}"
site_root="$root/target/site"

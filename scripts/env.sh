# Sourced by the project scripts: quiet, offline-friendly Terraform.
export CHECKPOINT_DISABLE=1
# An unset or missing CLI config file makes Terraform warn on every command; an empty one is fine.
if [ -z "${TF_CLI_CONFIG_FILE:-}" ] || [ ! -f "${TF_CLI_CONFIG_FILE}" ]; then
  export TF_CLI_CONFIG_FILE="${TMPDIR:-/tmp}/cloudnet-empty.tfrc"
  : > "$TF_CLI_CONFIG_FILE"
fi

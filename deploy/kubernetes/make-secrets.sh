#!/usr/bin/env bash
# Usage: deploy/kubernetes/make-secrets.sh [NAMESPACE]
#
# Makes the CURVE key pairs and API keys the manifests mount, and creates them as Secrets in
# NAMESPACE (default radixserve) with kubectl. The files stay in a new directory under the
# current one (printed at the end; keep it private or delete it); existing Secrets are left alone.
set -euo pipefail
namespace=${1:-radixserve}
radixserve=${RADIXSERVE:-radixserve}
command -v kubectl >/dev/null || { echo "error: kubectl is not on PATH" >&2; exit 1; }

umask 077
directory=$(mktemp -d "$PWD/radixserve-secrets.XXXXXX")
for name in router worker rank; do
    "$radixserve" keygen --out "$directory/$name"
done
random_key() { head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
printf 'default sk-%s\n' "$(random_key)" > "$directory/api-keys"
printf 'sk-admin-%s' "$(random_key)" > "$directory/admin-api-key"

kubectl get namespace "$namespace" >/dev/null 2>&1 || kubectl create namespace "$namespace"
for name in router worker rank; do
    kubectl --namespace "$namespace" create secret generic "radixserve-$name-curve" \
        --from-file="$name.key=$directory/$name.key" --from-file="$name.pub=$directory/$name.pub"
done
kubectl --namespace "$namespace" create secret generic radixserve-api-keys \
    --from-file="api-keys=$directory/api-keys" --from-file="admin-api-key=$directory/admin-api-key"
echo "created the Secrets in namespace $namespace; the keys are in $directory (the API key for clients is in api-keys)"

#!/usr/bin/env bash
# Creates the dev overlay's Secrets in the namespace impactgrains-dev with fresh random values, so that the
# repository holds none: the in-cluster PostgreSQL's password (impactgrains-postgres), the silos' connection string
# with the same password (impactgrains-database), one admin API key (impactgrains-api-keys, its hash only) and a
# self-signed certificate for the Ingresses' host (impactgrains-tls).
# Prints the admin key once. Run it once before `kubectl apply -k deploy-k8s/overlays/dev`; it refuses to overwrite.
# Needs kubectl (pointed at the laptop cluster), openssl and sha256sum.
set -euo pipefail
namespace=impactgrains-dev
host=impactgrains.localtest.me

for tool in kubectl openssl sha256sum; do
  command -v "$tool" >/dev/null 2>&1 || { echo "create-secrets.sh: $tool is required" >&2; exit 2; }
done
if kubectl -n "$namespace" get secret impactgrains-api-keys >/dev/null 2>&1; then
  echo "create-secrets.sh: the Secrets exist already in $namespace (delete them first to start afresh)" >&2
  exit 2
fi

password=$(openssl rand -hex 24)
# An API key as `ImpactGrains.Server keys create` makes one: ig_ and 256 random bits in base64url.
key="ig_$(openssl rand -base64 32 | tr '+/' '-_' | tr -d '=\n')"
hash="sha256:$(printf '%s' "$key" | sha256sum | cut -d' ' -f1)"

kubectl get namespace "$namespace" >/dev/null 2>&1 || kubectl create namespace "$namespace"
kubectl -n "$namespace" create secret generic impactgrains-postgres \
  --from-literal=POSTGRES_USER=impact --from-literal=POSTGRES_PASSWORD="$password" --from-literal=POSTGRES_DB=impact
kubectl -n "$namespace" create secret generic impactgrains-database \
  --from-literal=connection-string="Host=postgres;Port=5432;Database=impact;Username=impact;Password=$password;Timeout=5;Maximum Pool Size=30"
kubectl -n "$namespace" create secret generic impactgrains-api-keys \
  --from-literal=Impact__Auth__Keys__operator__Roles=admin --from-literal=Impact__Auth__Keys__operator__Hash="$hash"

# The Ingresses' certificate: self-signed, so browsers warn once; the private key never leaves this script and the Secret.
tls=$(mktemp -d)
trap 'rm -rf "$tls"' EXIT
openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj "/CN=$host" -addext "subjectAltName=DNS:$host" \
  -keyout "$tls/tls.key" -out "$tls/tls.crt" 2>/dev/null
kubectl -n "$namespace" create secret tls impactgrains-tls --cert="$tls/tls.crt" --key="$tls/tls.key"

echo
echo "The admin API key (shown this once; the cluster keeps only its hash):"
echo
echo "  $key"
echo
echo "Send it as X-Api-Key, give it to the viewer when it asks, or use it as the Orleans Dashboard's password."
echo "Through the ingress controller: https://$host/ (a self-signed certificate)."

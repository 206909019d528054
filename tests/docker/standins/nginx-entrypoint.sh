#!/bin/sh
# As the official image's 20-envsubst-on-templates.sh: /etc/nginx/templates/X.template →
# /etc/nginx/conf.d/X, substituting only variables defined in the environment.
set -eu
defined_envs=$(printf '${%s} ' $(env | cut -d= -f1))
for template in /etc/nginx/templates/*.template; do
  [ -f "$template" ] || continue
  name=$(basename "$template" .template)
  envsubst "$defined_envs" < "$template" > "/etc/nginx/conf.d/$name"
done
exec "$@"

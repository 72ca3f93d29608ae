{{/* Chart name, overridable. */}}
{{- define "innominatus.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Full name prefix: the release name when it already contains the chart name (so a release
called "innominatus" yields deployment/innominatus as the operations guide expects). */}}
{{- define "innominatus.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := include "innominatus.name" . -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "innominatus.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels on every object. */}}
{{- define "innominatus.labels" -}}
helm.sh/chart: {{ include "innominatus.chart" . }}
app.kubernetes.io/name: {{ include "innominatus.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: innominatus
{{- end -}}

{{/* The "app" label of a component; call with (dict "ctx" $ "component" "server").
The server pods carry app=<name> (the guide's `kubectl -l app=innominatus`); the other
components get app=<name>-<component> so that label never selects a worker or a job. */}}
{{- define "innominatus.appLabel" -}}
{{- $name := include "innominatus.name" .ctx -}}
{{- if eq .component "server" }}{{ $name }}{{ else }}{{ printf "%s-%s" $name .component }}{{ end -}}
{{- end -}}

{{/* Selector labels of one component; call with (dict "ctx" $ "component" "server"). */}}
{{- define "innominatus.selectorLabels" -}}
app: {{ include "innominatus.appLabel" . }}
app.kubernetes.io/name: {{ include "innominatus.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* All labels of one component's objects and pods: the common labels plus app and component. */}}
{{- define "innominatus.componentLabels" -}}
{{ include "innominatus.labels" .ctx }}
app: {{ include "innominatus.appLabel" . }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* Labels selecting every pod of the release (NetworkPolicy). */}}
{{- define "innominatus.releaseSelectorLabels" -}}
app.kubernetes.io/name: {{ include "innominatus.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "innominatus.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{- define "innominatus.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "innominatus.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The workers' ServiceAccount: the one that deploys (rbac.workloads). */}}
{{- define "innominatus.workerServiceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (printf "%s-worker" (include "innominatus.fullname" .)) .Values.serviceAccount.workerName -}}
{{- else -}}
{{- default (include "innominatus.serviceAccountName" .) .Values.serviceAccount.workerName -}}
{{- end -}}
{{- end -}}

{{/* Secret names the pods may read for the database password: database.passwordSecret and
rbac.readableSecrets (the names a rotation may switch DB_PASSWORD_SECRET to), as a JSON list. */}}
{{- define "innominatus.readableSecrets" -}}
{{- $names := .Values.rbac.readableSecrets -}}
{{- with .Values.database.passwordSecret }}{{ $names = prepend $names . }}{{ end -}}
{{- toJson (uniq $names) -}}
{{- end -}}

{{/* The web Deployment whose DB_PASSWORD_SECRET the other components follow (DB_PASSWORD_SECRET_FROM),
so that `kubectl set env deployment/<web> DB_PASSWORD_SECRET=<new>` rotates them all; empty when
the pods cannot ask the API (no RBAC, no token). */}}
{{- define "innominatus.passwordSecretFrom" -}}
{{- if and .Values.rbac.create .Values.serviceAccount.automountServiceAccountToken -}}
{{- include "innominatus.fullname" . -}}
{{- end -}}
{{- end -}}

{{/* Rules every component needs to connect: get on the readable password Secrets (never an empty
resourceNames, which would mean every Secret) and on the web Deployment it follows. */}}
{{- define "innominatus.dbPasswordRules" -}}
{{- $names := include "innominatus.readableSecrets" . | fromJsonArray -}}
{{- if $names }}
- apiGroups: [""]
  resources: ["secrets"]
  resourceNames: {{ toJson $names }}
  verbs: ["get"]
{{- end }}
{{- with include "innominatus.passwordSecretFrom" . }}
- apiGroups: ["apps"]
  resources: ["deployments"]
  resourceNames: [{{ . | quote }}]
  verbs: ["get"]
{{- end }}
{{- end -}}

{{- define "innominatus.configMapName" -}}
{{- printf "%s-config" (include "innominatus.fullname" .) -}}
{{- end -}}

{{- define "innominatus.secretName" -}}
{{- default (printf "%s-secrets" (include "innominatus.fullname" .)) .Values.secrets.existingSecret -}}
{{- end -}}

{{/* Name of the hook-time copies (ServiceAccount, Secret, ConfigMap) used by the migration Job:
at pre-install nothing else of the release exists yet. */}}
{{- define "innominatus.migrateName" -}}
{{- printf "%s-migrate" (include "innominatus.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Data of the chart's Secret as it is in the cluster now (empty on install and in `helm template`). */}}
{{- define "innominatus.existingSecretData" -}}
{{- $existing := lookup "v1" "Secret" .Release.Namespace (include "innominatus.secretName" .) -}}
{{- toJson (($existing | default dict).data | default dict) -}}
{{- end -}}

{{/* "true" when the render talks to a cluster (install, upgrade, --dry-run=server): every namespace
has the ServiceAccount "default", while lookup answers nothing in `helm template`. */}}
{{- define "innominatus.clusterReachable" -}}
{{- if lookup "v1" "ServiceAccount" .Release.Namespace "default" -}}true{{- end -}}
{{- end -}}

{{/* Keys for the chart's Secret, in order: the values, the Secret already in the cluster (kept
across upgrades), one generated once on a real install. `helm template` never generates keys: a
random key per render would sign everyone out and lose stored secret outputs on every sync. Memoised
so that the Secret and its migration-hook copy agree. */}}
{{- define "innominatus.keys" -}}
{{- if not (hasKey .Values.secrets "resolvedKeys") -}}
{{- $existing := include "innominatus.existingSecretData" . | fromJson -}}
{{- $reachable := include "innominatus.clusterReachable" . -}}
{{- $keys := dict -}}
{{- if .Values.secrets.secretKey -}}
{{- $_ := set $keys "secret-key" .Values.secrets.secretKey -}}
{{- else if index $existing "secret-key" -}}
{{- $_ := set $keys "secret-key" (index $existing "secret-key" | b64dec) -}}
{{- else if $reachable -}}
{{- $_ := set $keys "secret-key" (randAlphaNum 64) -}}
{{- else -}}
{{- fail "secrets: no SECRET_KEY and no cluster to read the existing one from (helm template). Set secrets.existingSecret to a Secret you manage (keys secret-key, encryption-key), or set secrets.secretKey and secrets.encryptionKey; see docs/installation.md, \"Keys\"." -}}
{{- end -}}
{{- if .Values.secrets.encryptionKey -}}
{{- $_ := set $keys "encryption-key" .Values.secrets.encryptionKey -}}
{{- else if index $existing "encryption-key" -}}
{{- $_ := set $keys "encryption-key" (index $existing "encryption-key" | b64dec) -}}
{{- else if and $reachable (not $existing) -}}
{{- /* Only on a first install: an existing release without one keeps deriving it from SECRET_KEY. */ -}}
{{- $_ := set $keys "encryption-key" (randAlphaNum 64) -}}
{{- end -}}
{{- if .Values.secrets.previousEncryptionKeys -}}
{{- $_ := set $keys "previous-encryption-keys" (join "," .Values.secrets.previousEncryptionKeys) -}}
{{- else if index $existing "previous-encryption-keys" -}}
{{- $_ := set $keys "previous-encryption-keys" (index $existing "previous-encryption-keys" | b64dec) -}}
{{- end -}}
{{- $_ := set .Values.secrets "resolvedKeys" $keys -}}
{{- end -}}
{{- toJson .Values.secrets.resolvedKeys -}}
{{- end -}}

{{/* Secret data shared by the Secret and its migration-hook copy. */}}
{{- define "innominatus.secretData" -}}
db-password: {{ .Values.database.password | b64enc | quote }}
oidc-client-secret: {{ .Values.oidc.clientSecret | b64enc | quote }}
{{- range $key, $value := include "innominatus.keys" . | fromJson }}
{{ $key }}: {{ $value | b64enc | quote }}
{{- end }}
{{- end -}}

{{- define "innominatus.serviceHost" -}}
{{- printf "%s.%s.svc" (include "innominatus.fullname" .) .Release.Namespace -}}
{{- end -}}

{{/* ALLOWED_HOSTS: the pod IP (probes and Prometheus address pods by IP; bracketed too, as an
IPv6 address appears in the Host header), loopback, the Service's DNS names, the Ingress hosts and
config.allowedHosts. */}}
{{- define "innominatus.allowedHosts" -}}
{{- $fullname := include "innominatus.fullname" . -}}
{{- $svc := include "innominatus.serviceHost" . -}}
{{- $hosts := list "$(POD_IP)" "[$(POD_IP)]" "localhost" "127.0.0.1" $fullname (printf "%s.%s" $fullname .Release.Namespace) $svc (printf "%s.%s" $svc .Values.clusterDomain) -}}
{{- if .Values.ingress.enabled -}}
{{- range .Values.ingress.hosts -}}
{{- $hosts = append $hosts .host -}}
{{- end -}}
{{- end -}}
{{- concat $hosts .Values.config.allowedHosts | uniq | join "," -}}
{{- end -}}

{{/* CSRF_TRUSTED_ORIGINS: the Ingress hosts (https when covered by TLS) and config.csrfTrustedOrigins. */}}
{{- define "innominatus.csrfTrustedOrigins" -}}
{{- $origins := list -}}
{{- if .Values.ingress.enabled -}}
{{- $tlsHosts := list -}}
{{- range .Values.ingress.tls -}}
{{- $tlsHosts = concat $tlsHosts (.hosts | default list) -}}
{{- end -}}
{{- range .Values.ingress.hosts -}}
{{- $origins = append $origins (printf "%s://%s" (ternary "https" "http" (has .host $tlsHosts)) .host) -}}
{{- end -}}
{{- end -}}
{{- concat $origins .Values.config.csrfTrustedOrigins | uniq | join "," -}}
{{- end -}}

{{/* A scalar as an environment value: YAML numbers arrive as float64, which would print 31536000
as 3.1536e+07, so whole numbers are printed as integers. */}}
{{- define "innominatus.envString" -}}
{{- if and (kindIs "float64" .) (eq . (floor .)) -}}
{{- int64 . | toString -}}
{{- else -}}
{{- toString . -}}
{{- end -}}
{{- end -}}

{{/* Environment of every innominatus container; call with (dict "ctx" $ "secretName" name), plus
"component" "worker" for the worker Deployment. */}}
{{- define "innominatus.env" -}}
{{- $v := .ctx.Values -}}
- name: POD_IP
  valueFrom:
    fieldRef:
      fieldPath: status.podIP
- name: POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: POD_NAMESPACE
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
{{- with $v.config.reservedNamespaces }}
- name: RESERVED_NAMESPACES
  value: {{ join "," . | quote }}
{{- end }}
# The root filesystem is read-only: git, terraform and Python caches write below HOME.
- name: HOME
  value: /tmp
- name: PORT
  value: {{ $v.server.port | quote }}
- name: LOG_LEVEL
  value: {{ $v.config.logLevel | quote }}
- name: LOG_FORMAT
  value: {{ $v.config.logFormat | quote }}
- name: DEBUG
  value: {{ $v.config.debug | toString | quote }}
- name: ALLOWED_HOSTS
  value: {{ include "innominatus.allowedHosts" .ctx | quote }}
{{- with include "innominatus.csrfTrustedOrigins" .ctx }}
- name: CSRF_TRUSTED_ORIGINS
  value: {{ . | quote }}
{{- end }}
{{- with $v.config.trustedProxies }}
- name: TRUSTED_PROXIES
  value: {{ join "," . | quote }}
{{- end }}
- name: DB_HOST
  value: {{ $v.database.host | quote }}
- name: DB_PORT
  value: {{ $v.database.port | quote }}
- name: DB_USER
  value: {{ $v.database.user | quote }}
- name: DB_NAME
  value: {{ $v.database.name | quote }}
- name: DB_SSLMODE
  value: {{ $v.database.sslmode | quote }}
{{- if eq (.component | default "server") "server" }}
# psql in the web pod: the application writes the password it resolved (DB_PASSWORD or
# DB_PASSWORD_SECRET) to this file at start-up; `kubectl exec` inherits the variable. Never in the
# worker, whose steps run as the same user and could read the file.
- name: PGPASSFILE
  value: /tmp/.pgpass
{{- end }}
- name: PGPORT
  value: {{ $v.database.port | quote }}
# The same TLS settings for psql in the pod (libpq reads PG*); pg_dump/pg_restore get them from DB_*.
- name: PGSSLMODE
  value: {{ $v.database.sslmode | quote }}
{{- with $v.database.tls }}
{{- if .secretName }}
{{- range $variable, $key := dict "SSLROOTCERT" .rootCertKey "SSLCERT" .clientCertKey "SSLKEY" .clientKeyKey }}
{{- if $key }}
- name: DB_{{ $variable }}
  value: {{ printf "%s/%s" (include "innominatus.dbTlsPath" $) $key | quote }}
- name: PG{{ $variable }}
  value: {{ printf "%s/%s" (include "innominatus.dbTlsPath" $) $key | quote }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
- name: DB_CONNECT_TIMEOUT
  value: {{ include "innominatus.envString" $v.database.connectTimeout | quote }}
- name: DB_CONN_MAX_AGE
  value: {{ include "innominatus.envString" $v.database.connMaxAge | quote }}
- name: DB_PREPARED_STATEMENTS
  value: {{ $v.database.preparedStatements | toString | quote }}
- name: DB_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ .secretName }}
      key: db-password
      optional: true
{{- with $v.database.passwordSecret }}
- name: DB_PASSWORD_SECRET
  value: {{ . | quote }}
{{- end }}
{{- if not (eq (.component | default "server") "server") }}
{{- with include "innominatus.passwordSecretFrom" .ctx }}
# Follow the web Deployment's DB_PASSWORD_SECRET (a `kubectl set env` rotation reaches every component).
- name: DB_PASSWORD_SECRET_FROM
  value: {{ . | quote }}
{{- end }}
{{- end }}
- name: SECRET_KEY
  valueFrom:
    secretKeyRef:
      name: {{ .secretName }}
      key: secret-key
# Key for secret outputs at rest; when absent the product derives it from SECRET_KEY.
- name: ENCRYPTION_KEY
  valueFrom:
    secretKeyRef:
      name: {{ .secretName }}
      key: encryption-key
      optional: true
# Keys that encrypted secret outputs before the current one, newest first; they still decrypt.
- name: ENCRYPTION_PREVIOUS_KEYS
  valueFrom:
    secretKeyRef:
      name: {{ .secretName }}
      key: previous-encryption-keys
      optional: true
- name: OIDC_ENABLED
  value: {{ $v.oidc.enabled | toString | quote }}
{{- if $v.oidc.enabled }}
- name: OIDC_ISSUER
  value: {{ $v.oidc.issuer | quote }}
- name: OIDC_CLIENT_ID
  value: {{ $v.oidc.clientId | quote }}
- name: OIDC_REDIRECT_URL
  value: {{ $v.oidc.redirectUrl | quote }}
- name: OIDC_CLIENT_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ .secretName }}
      key: oidc-client-secret
      optional: true
- name: OIDC_SCOPES
  value: {{ $v.oidc.scopes | quote }}
- name: OIDC_PROVIDER_NAME
  value: {{ $v.oidc.providerName | quote }}
- name: OIDC_TEAMS_CLAIM
  value: {{ $v.oidc.teamsClaim | quote }}
- name: OIDC_ROLES_CLAIM
  value: {{ $v.oidc.rolesClaim | quote }}
{{- with $v.oidc.audiences }}
- name: OIDC_AUDIENCES
  value: {{ join "," . | quote }}
{{- end }}
- name: OIDC_SIGN_ALGORITHMS
  value: {{ join "," $v.oidc.signAlgorithms | quote }}
- name: OIDC_ACCEPT_OPAQUE_TOKENS
  value: {{ $v.oidc.acceptOpaqueTokens | toString | quote }}
- name: OIDC_USE_USERINFO
  value: {{ $v.oidc.useUserinfo | toString | quote }}
- name: OIDC_TIMEOUT
  value: {{ include "innominatus.envString" $v.oidc.timeout | quote }}
- name: OIDC_VERIFY_SSL
  value: {{ $v.oidc.verifySsl | toString | quote }}
- name: OIDC_DISCOVERY_CACHE_SECONDS
  value: {{ include "innominatus.envString" $v.oidc.discoveryCacheSeconds | quote }}
- name: OIDC_USERINFO_CACHE_SECONDS
  value: {{ include "innominatus.envString" $v.oidc.userinfoCacheSeconds | quote }}
{{- end }}
- name: RATE_LIMIT_USER
  value: {{ $v.rateLimit.user | quote }}
- name: RATE_LIMIT_ANON
  value: {{ $v.rateLimit.anon | quote }}
- name: RATE_LIMIT_ADDRESS
  value: {{ $v.rateLimit.address | quote }}
- name: RATE_LIMIT_LOGIN
  value: {{ $v.rateLimit.login | quote }}
{{- with $v.config.pushgatewayUrl }}
- name: PUSHGATEWAY_URL
  value: {{ . | quote }}
{{- end }}
{{- with $v.config.redisUrl }}
- name: REDIS_URL
  value: {{ . | quote }}
{{- end }}
- name: GUNICORN_WORKERS
  value: {{ $v.gunicorn.workers | quote }}
- name: GUNICORN_THREADS
  value: {{ $v.gunicorn.threads | quote }}
- name: GUNICORN_TIMEOUT
  value: {{ include "innominatus.envString" $v.gunicorn.timeout | quote }}
- name: GUNICORN_GRACEFUL_TIMEOUT
  value: {{ include "innominatus.envString" $v.gunicorn.gracefulTimeout | quote }}
- name: GUNICORN_MAX_REQUESTS
  value: {{ include "innominatus.envString" $v.gunicorn.maxRequests | quote }}
- name: GUNICORN_ACCESS_LOG
  value: {{ $v.gunicorn.accessLog | toString | quote }}
{{- with $v.gunicorn.workerTmpDir }}
- name: GUNICORN_WORKER_TMP_DIR
  value: {{ . | quote }}
{{- end }}
- name: Q_WORKERS
  value: {{ $v.worker.qWorkers | quote }}
- name: STEP_LEASE_SECONDS
  value: {{ include "innominatus.envString" $v.worker.stepLeaseSeconds | quote }}
- name: REAPER_INTERVAL_SECONDS
  value: {{ include "innominatus.envString" $v.worker.reaperIntervalSeconds | quote }}
- name: WORKER_STALL_SECONDS
  value: {{ include "innominatus.envString" $v.worker.stallSeconds | quote }}
{{- if eq (.component | default "") "worker" }}
- name: WORKER_METRICS_PORT
  value: {{ $v.worker.metricsPort | quote }}
- name: WORKER_DRAIN_SECONDS
  value: {{ include "innominatus.envString" $v.worker.drainSeconds | quote }}
- name: WORKER_PROBE_PORT
  value: {{ $v.worker.probePort | quote }}
{{- end }}
- name: ADMIN_CONFIG
  value: /etc/innominatus/admin-config.yaml
- name: INNOMINATUS_DATA_DIR
  value: /var/lib/innominatus
- name: BACKUP_DIR
  value: {{ $v.config.backupDir | quote }}
- name: BACKUP_KEEP
  value: {{ $v.backup.keep | quote }}
# Backups run as the chart's CronJob; the worker pods have no backup volume to write to.
- name: BACKUP_SCHEDULE
  value: "false"
- name: CLEANUP_SCHEDULE
  value: {{ $v.cleanup.schedule | toString | quote }}
- name: RETENTION_DAYS
  value: {{ include "innominatus.envString" $v.cleanup.retentionDays | quote }}
{{- range $name, $value := $v.env }}
- name: {{ $name }}
  value: {{ include "innominatus.envString" $value | quote }}
{{- end }}
{{- with $v.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Where database.tls.secretName is mounted. */}}
{{- define "innominatus.dbTlsPath" -}}
/etc/innominatus-db-tls
{{- end -}}

{{/* Volume mounts of every innominatus container. */}}
{{- define "innominatus.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
{{- if .Values.database.tls.secretName }}
- name: db-tls
  mountPath: {{ include "innominatus.dbTlsPath" . }}
  readOnly: true
{{- end }}
- name: data
  mountPath: /var/lib/innominatus
- name: config
  mountPath: /etc/innominatus
  readOnly: true
{{- with .Values.extraVolumeMounts }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Volumes of every innominatus pod; call with (dict "ctx" $ "configMapName" name). */}}
{{- define "innominatus.volumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .ctx.Values.tmpSizeLimit }}
- name: data
  emptyDir:
    sizeLimit: {{ .ctx.Values.dataSizeLimit }}
- name: config
  configMap:
    name: {{ .configMapName }}
{{- with .ctx.Values.database.tls.secretName }}
- name: db-tls
  secret:
    secretName: {{ . }}
    # libpq refuses a client key readable by others; 0440 owned by root is accepted.
    defaultMode: 0440
{{- end }}
{{- with .ctx.Values.extraVolumes }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Pod template annotations that roll the pods when configuration or secrets change. */}}
{{- define "innominatus.checksums" -}}
checksum/config: {{ toYaml .Values.adminConfig | sha256sum }}
checksum/secret: {{ list .Values.database.password .Values.oidc.clientSecret .Values.secrets.secretKey .Values.secrets.encryptionKey .Values.secrets.previousEncryptionKeys .Values.secrets.existingSecret .Values.database.passwordSecret | toJson | sha256sum }}
{{- end -}}

{{/* Topology spread constraints with the component's selector filled in when omitted. */}}
{{- define "innominatus.topologySpread" -}}
{{- $selector := fromYaml (include "innominatus.selectorLabels" (dict "ctx" .ctx "component" .component)) -}}
{{- range .constraints }}
- {{ toYaml (merge (dict) . (dict "labelSelector" (dict "matchLabels" $selector))) | nindent 2 | trim }}
{{- end }}
{{- end -}}

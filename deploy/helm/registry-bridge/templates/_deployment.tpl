{{/*
One app's Deployment. Params: root, app (writer | collector-<kind>), v (its values block),
writer (bool), configYaml (the rendered config, for the checksum that rolls pods on change).
*/}}
{{- define "rb.deployment" -}}
{{- $root := .root -}}
{{- $v := .v -}}
{{- $name := include "rb.appName" (dict "root" $root "app" .app) -}}
{{- $r := $root.Values.externalRedis -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $name }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "rb.appLabels" (dict "root" $root "app" .app) | nindent 4 }}
spec:
  {{- if not (and $v.autoscaling $v.autoscaling.enabled) }}
  replicas: {{ $v.replicas }}
  {{- end }}
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      {{- include "rb.selectorLabels" (dict "root" $root "app" .app) | nindent 6 }}
  {{- if .writer }}
  strategy:
    # One pod at a time: the standby keeps the Lease warm while the other restarts.
    type: RollingUpdate
    rollingUpdate:
      maxUnavailable: 1
      maxSurge: 0
  {{- end }}
  template:
    metadata:
      labels:
        {{- include "rb.selectorLabels" (dict "root" $root "app" .app) | nindent 8 }}
        app.kubernetes.io/version: {{ $root.Chart.AppVersion | quote }}
        app.kubernetes.io/part-of: registry-bridge
        {{- with $v.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      annotations:
        checksum/config: {{ .configYaml | sha256sum }}
        {{- with $v.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ $name }}
      # Only the writer talks to the Kubernetes API; collectors get no token at all.
      automountServiceAccountToken: {{ if .writer }}true{{ else }}false{{ end }}
      {{- with $root.Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      securityContext:
        {{- toYaml $root.Values.podSecurityContext | nindent 8 }}
      terminationGracePeriodSeconds: {{ $v.terminationGracePeriodSeconds }}
      {{- with $v.priorityClassName }}
      priorityClassName: {{ . }}
      {{- end }}
      {{- with $v.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- if $v.topologySpread.enabled }}
      topologySpreadConstraints:
        {{- range $v.topologySpread.topologyKeys }}
        - maxSkew: {{ $v.topologySpread.maxSkew }}
          topologyKey: {{ . }}
          whenUnsatisfiable: {{ $v.topologySpread.whenUnsatisfiable }}
          labelSelector:
            matchLabels:
              {{- include "rb.selectorLabels" (dict "root" $root "app" $.app) | nindent 14 }}
        {{- end }}
      {{- end }}
      containers:
        - name: {{ .app }}
          image: {{ include "rb.image" (dict "root" $root "image" $v.image) }}
          imagePullPolicy: {{ $v.image.pullPolicy }}
          securityContext:
            {{- toYaml $root.Values.securityContext | nindent 12 }}
          env:
            - name: RB_CONFIG_FILE
              value: {{ include "rb.configDir" $root }}/config.yaml
            {{- if .writer }}
            # Each replica competes for the Lease under its own pod name.
            - name: RB__leaderElection__identity
              valueFrom:
                fieldRef:
                  fieldPath: metadata.name
            {{- end }}
            {{- with $v.nodeOptions }}
            - name: NODE_OPTIONS
              value: {{ . | quote }}
            {{- end }}
            {{- with $v.extraEnv }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          ports:
            - name: http
              containerPort: {{ $v.http.port }}
              protocol: TCP
          startupProbe:
            httpGet:
              path: /health/live
              port: http
            {{- toYaml $v.probes.startup | nindent 12 }}
          livenessProbe:
            httpGet:
              path: /health/live
              port: http
            {{- toYaml $v.probes.liveness | nindent 12 }}
          readinessProbe:
            httpGet:
              path: /health/ready
              port: http
            {{- toYaml $v.probes.readiness | nindent 12 }}
          resources:
            {{- toYaml $v.resources | nindent 12 }}
          volumeMounts:
            - name: config
              mountPath: {{ include "rb.configDir" $root }}
              readOnly: true
            # The only writable path: the root filesystem is read-only.
            - name: tmp
              mountPath: /tmp
            {{- if $r.existingSecret }}
            - name: redis-password
              mountPath: {{ include "rb.redisSecretDir" $root }}
              readOnly: true
            {{- end }}
            {{- if $r.tls.existingSecret }}
            - name: redis-tls
              mountPath: {{ include "rb.redisTlsDir" $root }}
              readOnly: true
            {{- end }}
            {{- if and .writer $v.dashboard.enabled }}
            - name: dashboard-password
              mountPath: {{ include "rb.dashboardSecretDir" $root }}
              readOnly: true
            {{- end }}
            {{- range $v.secretMounts }}
            - name: {{ .name }}
              mountPath: {{ .mountPath }}
              readOnly: true
            {{- end }}
            {{- with $v.extraVolumeMounts }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
      volumes:
        - name: config
          configMap:
            name: {{ $name }}
        - name: tmp
          emptyDir:
            sizeLimit: 64Mi
        {{- if $r.existingSecret }}
        - name: redis-password
          secret:
            secretName: {{ $r.existingSecret }}
            defaultMode: 0440
        {{- end }}
        {{- if $r.tls.existingSecret }}
        - name: redis-tls
          secret:
            secretName: {{ $r.tls.existingSecret }}
            defaultMode: 0440
        {{- end }}
        {{- if and .writer $v.dashboard.enabled }}
        - name: dashboard-password
          secret:
            secretName: {{ $v.dashboard.existingSecret }}
            defaultMode: 0440
        {{- end }}
        {{- range $v.secretMounts }}
        - name: {{ .name }}
          secret:
            secretName: {{ .secretName }}
            defaultMode: 0440
            {{- with .items }}
            items:
              {{- toYaml . | nindent 14 }}
            {{- end }}
        {{- end }}
        {{- with $v.extraVolumes }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
{{- end -}}

{{- define "need" }}{{ required "image.tag is required" .Values.image }}{{ end }}

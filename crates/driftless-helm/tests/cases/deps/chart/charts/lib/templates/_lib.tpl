kind: A

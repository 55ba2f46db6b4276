# Host programs (placeholder until the tools land). Defines TOOLS_BINS.
TOOLS_BINS :=

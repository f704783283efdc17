/** First line of every non-secret file kubeforge writes, so whoever opens it on a node knows. */
export const MANAGED_HEADER = '# Managed by kubeforge: local edits are overwritten on the next run.';

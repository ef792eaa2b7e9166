"""The audit log (审计日志, issue 16): who did what to which record, when and why. Append-only."""

"""Code shared by the three processes: config, domain constants, messages, adapters, scoring arithmetic."""

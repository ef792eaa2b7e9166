"""Raw answers: what enterprises wrote, read back (JSON with cursor paging, CSV, .xlsx) and comments per department."""

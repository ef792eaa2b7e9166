"""Appeals (申诉复核) of 差评 by the rated department, decided by the administrator (issue 16)."""

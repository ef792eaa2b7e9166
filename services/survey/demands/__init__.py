"""The demand ledger (诉求台账): rules, storage, API and the Excel ledger."""

"""The imperative shell: files, processes, signals, the ledger, systemd."""

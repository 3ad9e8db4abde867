"""What every layer stands on: storage, tables, messages, roles, the Adapter protocol."""

"""The village's rules as plain functions over a database session, shared by every face."""

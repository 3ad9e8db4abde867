"""What is due when: schedules, the delivery ledger and the alarm clock."""

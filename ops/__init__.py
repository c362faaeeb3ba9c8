"""Operations: starting, stopping and measuring the assistant's processes."""

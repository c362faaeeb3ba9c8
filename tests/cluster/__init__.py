"""Tests of the scaled-out set-up (make test-cluster) and of conversations surviving restarts."""

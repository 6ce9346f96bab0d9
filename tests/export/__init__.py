"""Unit tests of provisioner/export. (A package so that test_templates.py does not clash with
tests/emulator/test_templates.py under pytest's default import mode.)"""

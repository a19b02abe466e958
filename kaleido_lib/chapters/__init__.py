"""What one chapter alone uses: its per-seed measures, its figures and its claims, one module per chapter."""

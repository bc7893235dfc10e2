"""Singer target that maps records onto Akeneo PIM products and upserts them in batches."""

__version__ = "0.1.0"

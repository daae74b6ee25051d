"""Identity documents: MRZ parsing and upload sanitising (pure cores, no Django)."""

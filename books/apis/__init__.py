"""The Books REST API under /books/v3/, following Zoho Books v3 conventions."""

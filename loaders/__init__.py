"""Veilig Thuis warehouse: loader and CLI."""

"""Production entry point: `gunicorn 'gradebook.wsgi:app'`."""

from gradebook import create_app

app = create_app()

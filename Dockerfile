FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY . .
RUN pip install --no-cache-dir . && python manage.py collectstatic --no-input
EXPOSE 8000
CMD ["python", "-m", "waitress", "--listen=0.0.0.0:8000", "--threads=16", "config.wsgi:application"]

# One image for every Otklik process of a deployment (crawler, tagger, analyser, dashboard):
# compose.yaml starts them with different commands. CPU build of torch; a GPU tagger uses an
# image built FROM a CUDA base instead (docs/deploy.md).
FROM python:3.11-slim-bookworm

WORKDIR /otklik
COPY requirements.txt pyproject.toml ./
RUN pip install --no-cache-dir torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu \
 && pip install --no-cache-dir -r requirements.txt
COPY . .
RUN pip install --no-cache-dir --no-deps --no-build-isolation -e .

# Models come with the image; nothing is downloaded at run time.
ENV HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PYTHONUNBUFFERED=1
ENTRYPOINT ["otklik"]
CMD ["--help"]

"""Scrapy settings for Otklik's crawlers, in one place."""

import os

BOT_NAME = "otklik"
SPIDER_MODULES = ["crawlers.spiders"]
NEWSPIDER_MODULE = "crawlers.spiders"

USER_AGENT = "Otklik/0.1 (+https://github.com/otklik/otklik; social listening crawler)"
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 4
DOWNLOAD_DELAY = 0.25
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.5
AUTOTHROTTLE_MAX_DELAY = 30
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
RETRY_TIMES = 2
DOWNLOAD_TIMEOUT = 30
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
LOG_LEVEL = os.environ.get("OTKLIK_LOG_LEVEL", "INFO")
FEED_EXPORT_ENCODING = "utf-8"

# After decompression (590): every HTML, XML and JSON page is read in its bytes' real encoding.
DOWNLOADER_MIDDLEWARES = {"crawlers.encoding.EncodingCheckMiddleware": 580}

ITEM_PIPELINES = {
    "crawlers.pipelines.CleanPipeline": 100,
    "crawlers.pipelines.DedupPipeline": 200,
    "crawlers.pipelines.StorePipeline": 300,
}

# Otklik's own settings; the CLI overrides them from its options.
OTKLIK_DB = os.environ.get("OTKLIK_DB", "data/otklik.db")
OTKLIK_SOURCES = os.environ.get("OTKLIK_SOURCES", "data/sources.yaml")
OTKLIK_STORE_ENABLED = True

EXTENSIONS = {"crawlers.extensions.CrawlRunRecorder": 500}
OTKLIK_CATALOGUE = os.environ.get("OTKLIK_CATALOGUE", "data/catalogue.yaml")

# A crawl fleet (otklik crawl --redis URL): the seconds a worker may go without a heartbeat
# before the others put the requests it holds back in the queue. DOWNLOAD_DELAY is then also
# the shortest interval between two requests of the whole fleet to one domain.
OTKLIK_FLEET_WORKER_TIMEOUT = 60  # above the store's 30 s wait for a busy database

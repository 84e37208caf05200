"""parcel-edge: parcel imaging, label reading and counterfeit flagging on a conveyor."""
from setuptools import find_packages, setup

setup(
    name="parcel-edge",
    version="0.1.0",
    description="Parcel imaging unit for international mail facility conveyors",
    python_requires=">=3.11",
    packages=find_packages(include=["edge", "edge.*"]),
    package_data={"edge": ["py.typed"],
                  "edge.hub.store": ["migrations/script.py.mako", "migrations/versions/*.py"],
                  "edge.hub.web": ["templates/*.html", "static/*"]},
    install_requires=[
        # OpenCV 5 changed drawing calls; the headless build needs no libGL on a Pi.
        "opencv-python-headless>=4.10,<5",
        "numpy>=1.26,<3",
        "onnxruntime>=1.18,<2",
        "zxing-cpp>=3.0,<4",
        "pyzbar>=0.1.9,<0.2",
        "paho-mqtt>=2.1,<3",
        "pydantic>=2.6,<3",
        "PyYAML>=6,<7",
        "cryptography>=42",
        "psutil>=5.9,<8",
        # OCR of brand marks (edge/ocr.py): rapidocr-onnxruntime itself is installed with
        # --no-deps by scripts/setup.sh, because it asks for the non-headless OpenCV 5.
        "Pillow>=10", "pyclipper>=1.3,<2", "shapely>=2,<3", "tqdm>=4",
    ],
    extras_require={
        "pi": ["picamera2>=0.3.17,<0.4", "gpiozero>=2.0,<3"],
        # fusepy: the power-cut file system in the tests (needs Debian's libfuse2).
        # pytest-timeout: a hung test fails with its stack (pytest.ini), not the whole CI run.
        "dev": ["pytest>=8", "pytest-timeout>=2.3,<3", "gpiozero>=2.0,<3", "jsonschema>=4.18,<5",
                "fusepy>=3.0.1,<4",
                # onnx: the test that models/fuse_ocr.py rebuilds the shipped models/ocr.
                "onnx>=1.16,<2",
                # Browser tests drive Debian's chromium; never `playwright install`.
                "playwright>=1.45,<2", "httpx>=0.27,<1"],
        "train": ["torch==2.13.0", "onnx>=1.16,<2"],
        # The central hub (edge/hub): database engines, migrations, legal-clock holidays.
        "hub": ["sqlalchemy>=2.0,<3", "alembic>=1.13,<2", "psycopg[binary]>=3.1,<4",
                "holidays>=0.50", "argon2-cffi>=23.1",
                # The officers' web app: server-rendered pages, no CDN.
                "fastapi>=0.110,<1", "uvicorn>=0.29,<1", "jinja2>=3.1,<4",
                "python-multipart>=0.0.9"],
        # The hub's exam-photo capture: phone photos (HEIC too) and the guide's PDF.
        "capture": ["pillow>=10", "pillow-heif>=0.16", "fpdf2>=2.7,<3"],
    },
    entry_points={"console_scripts": ["parcel-edge=edge.cli:main"]},
)

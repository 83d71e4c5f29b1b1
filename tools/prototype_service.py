#!/usr/bin/python3
"""The prototype's classification service, re-created as the benchmark anchor.

    /usr/bin/python3 tools/prototype_service.py [--model M.joblib] [--host H] [--port P]

What the prototype ran (/work/shared/seed/PROTOTYPE.md): a FastAPI app with
`POST /predict`, request body `{"text": "..."}`, answer `{"label": "got"}`,
the joblib Pipeline's class index 0, 1, 2 mapped to got, lotr, hp in that
order; no auth, no batch route; one uvicorn process. The model is loaded once
at start with joblib and each request calls `model.predict([text])`. The
handler is `async def`, as in the prototype's app.py: FastAPI runs it on the
event loop. (A plain `def` goes through a thread pool and answers fewer than
half the requests/s: an anchor weakened that way once inflated the ratio.)

Needs Debian's python3-fastapi, python3-uvicorn, python3-sklearn and
python3-joblib (scripts/setup installs them). Used by bench/http/run.
"""

import argparse
import os

import joblib
import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel

LABELS = ["got", "lotr", "hp"]


class Text(BaseModel):
    text: str


def make_app(model_path):
    model = joblib.load(model_path)
    app = FastAPI()

    @app.post("/predict")
    async def predict(body: Text):
        return {"label": LABELS[int(model.predict([body.text])[0])]}

    return app


def main():
    shared = os.environ.get("SAGAFLOW_SHARED", os.path.join(os.path.dirname(__file__), "..", "..", "shared"))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=os.path.join(shared, "models", "classification_pipeline.joblib"))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    uvicorn.run(make_app(args.model), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()

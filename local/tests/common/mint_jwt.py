"""Test keys and tokens for portside-local's JWT authorizer, made with
PyJWT and cryptography (an implementation independent of portside-local's).

    python mint_jwt.py keys DIR            RSA keys k1, k2 (2048 bits) as DIR/k1.pem,
                                           DIR/k2.pem; DIR/jwks.json holds k1 only,
                                           DIR/jwks-both.json both
    python mint_jwt.py tokens DIR SPECS    SPECS: a JSON list of {"key": "k1",
                                           "kid": "k1", "alg": "RS256", "claims": {...}};
                                           prints the tokens as a JSON list

"kid" may differ from "key" (a token claiming another key than the one that
signed it); "alg" defaults to RS256.
"""

import json
import sys
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm


def keys(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    public = {}
    for kid in ("k1", "k2"):
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        (directory / f"{kid}.pem").write_bytes(pem)
        jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
        jwk.update({"kid": kid, "use": "sig", "alg": "RS256"})
        public[kid] = jwk
    (directory / "jwks.json").write_text(json.dumps({"keys": [public["k1"]]}))
    (directory / "jwks-both.json").write_text(json.dumps({"keys": [public["k1"], public["k2"]]}))


def tokens(directory: Path, specs: list) -> None:
    out = []
    for spec in specs:
        pem = (directory / f"{spec['key']}.pem").read_bytes()
        out.append(
            jwt.encode(spec["claims"], pem, algorithm=spec.get("alg", "RS256"), headers={"kid": spec.get("kid", spec["key"])})
        )
    print(json.dumps(out))


if __name__ == "__main__":
    if sys.argv[1] == "keys":
        keys(Path(sys.argv[2]))
    else:
        tokens(Path(sys.argv[2]), json.loads(sys.argv[3]))

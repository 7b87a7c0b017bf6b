#!/usr/bin/env python3
"""Makes a DPoP proof (RFC 9449) with jwcrypto, a library outside this workspace, so that the
tests check the token endpoint, the verifier and the gateway against proofs they did not make
themselves (`testkit::interop::jwcrypto_proof` runs it).

    dpop_proof.py KEY_FILE METHOD URL [ACCESS_TOKEN]

KEY_FILE holds a P-256 private JWK; it is made at the first call. Prints one JSON line:
{"proof": "<the proof>", "jkt": "<the key's RFC 7638 thumbprint, by jwcrypto>"}.
"""

import hashlib
import base64
import json
import os
import sys
import time
import uuid

from jwcrypto import jwk, jwt


def main():
    key_file, method, url = sys.argv[1:4]
    access_token = sys.argv[4] if len(sys.argv) > 4 else None
    if os.path.exists(key_file):
        with open(key_file) as f:
            key = jwk.JWK.from_json(f.read())
    else:
        key = jwk.JWK.generate(kty="EC", crv="P-256")
        with open(key_file, "w") as f:
            f.write(key.export_private())
    public = key.export_public(as_dict=True)
    public = {name: public[name] for name in ("kty", "crv", "x", "y")}
    claims = {"htm": method, "htu": url, "iat": int(time.time()), "jti": str(uuid.uuid4())}
    if access_token is not None:
        digest = hashlib.sha256(access_token.encode("ascii")).digest()
        claims["ath"] = base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")
    token = jwt.JWT(header={"typ": "dpop+jwt", "alg": "ES256", "jwk": public}, claims=claims)
    token.make_signed_token(key)
    print(json.dumps({"proof": token.serialize(), "jkt": key.thumbprint()}))


if __name__ == "__main__":
    main()

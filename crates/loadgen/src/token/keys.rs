//! Client keys and the client assertions signed with them, and the raw RSA sign rate of a core.

use super::*;

pub(crate) struct ClientKey {
    pub(crate) id: String,
    pub(crate) kid: String,
    pub(crate) pair: RsaKeyPair,
    /// The base64url header of its assertions.
    pub(crate) header: String,
}

pub(crate) fn new_key_pair() -> Result<RsaKeyPair, Error> {
    RsaKeyPair::generate(KeySize::Rsa2048).map_err(|_| "cannot generate an RSA key".into())
}

/// The upload form of the public half: the base64 of its `PUBLIC KEY` PEM; and its kid.
pub(crate) fn public_upload(pair: &RsaKeyPair) -> Result<(String, String), Error> {
    let der = pair
        .public_key()
        .as_der()
        .map_err(|_| "cannot encode a public key")?;
    let body = STANDARD.encode(der.as_ref());
    let mut pem = String::from("-----BEGIN PUBLIC KEY-----\n");
    for line in body.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line)?);
        pem.push('\n');
    }
    pem.push_str("-----END PUBLIC KEY-----\n");
    let public = pair.public_key();
    let n = URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero());
    let e = URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero());
    Ok((STANDARD.encode(pem), platform::keys::jwk_thumbprint(&n, &e)))
}

pub(crate) fn rs256(pair: &RsaKeyPair, message: &[u8]) -> Result<Vec<u8>, Error> {
    let mut signature = vec![0u8; pair.public_modulus_len()];
    pair.sign(
        &RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        message,
        &mut signature,
    )
    .map_err(|_| "signing failed")?;
    Ok(signature)
}

/// A token request's form with a fresh assertion of `key` (distinct `jti`, `exp` an hour on).
pub(crate) fn token_request(key: &ClientKey, purpose_id: &str, now: i64) -> Result<Bytes, Error> {
    let claims = json!({
        "iss": key.id, "sub": key.id, "aud": AUDIENCE,
        "jti": uuid::Uuid::new_v4().simple().to_string(),
        "iat": now, "exp": now + 3600, "purposeId": purpose_id,
    });
    let mut jwt = key.header.clone();
    jwt.push('.');
    jwt.push_str(&URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims)?));
    let signature = rs256(&key.pair, jwt.as_bytes())?;
    jwt.push('.');
    jwt.push_str(&URL_SAFE_NO_PAD.encode(signature));
    Ok(Bytes::from(format!(
        "client_id={}&client_assertion={jwt}&client_assertion_type={ASSERTION_TYPE}\
         &grant_type=client_credentials",
        key.id
    )))
}

/// `count` token requests, round robin over the clients, signed on every core.
pub(super) fn presign(
    keys: &[ClientKey],
    purpose_id: &str,
    count: usize,
) -> Result<Vec<Bytes>, Error> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let now = platform::jwt::now_secs();
    let per = count.div_ceil(threads);
    let parts: Vec<Result<Vec<Bytes>, Error>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || {
                    let from = t * per;
                    let to = ((t + 1) * per).min(count);
                    (from..to)
                        .map(|i| token_request(&keys[i % keys.len()], purpose_id, now))
                        .collect()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .map_err(|_| Error::from("a signing thread panicked"))?
            })
            .collect()
    });
    let mut all = Vec::with_capacity(count);
    for part in parts {
        all.extend(part?);
    }
    Ok(all)
}

/// Raw RSA-2048 PKCS#1 SHA-256 signatures per second on one core (the first of `cpus`), for
/// [`REFERENCE`], with the library the server uses: per second of wall-clock time, and per
/// second of the thread's CPU time (which other processes on the machine do not lower).
pub(super) fn raw_sign_rate(cpus: &[usize]) -> Result<(f64, f64), Error> {
    raw_sign_rate_for(cpus, REFERENCE)
}

/// [`raw_sign_rate`] measured for `length`.
pub(crate) fn raw_sign_rate_for(cpus: &[usize], length: Duration) -> Result<(f64, f64), Error> {
    let cpus: Vec<usize> = cpus.iter().copied().take(1).collect();
    let thread = std::thread::Builder::new().name("reference".into()).spawn(
        move || -> Result<(f64, f64), Error> {
            pin(&cpus);
            let pair = new_key_pair()?;
            // About the size of what the server signs: a voucher's header and claims.
            let message = vec![b'a'; 700];
            rs256(&pair, &message)?;
            let started = Instant::now();
            let cpu = this_thread_cpu();
            let mut n = 0u64;
            while started.elapsed() < length {
                rs256(&pair, &message)?;
                n += 1;
            }
            let cpu = this_thread_cpu()
                .saturating_sub(cpu)
                .as_secs_f64()
                .max(1e-9);
            Ok((n as f64 / started.elapsed().as_secs_f64(), n as f64 / cpu))
        },
    )?;
    thread.join().map_err(|_| "the reference thread panicked")?
}

"""Writes the small fixtures in this folder with numpy itself, so that the
tests read files exactly as numpy and common tools write them. Run from this
folder: python make_fixtures.py (needs numpy). The files are committed."""

import numpy as np

rng = np.random.default_rng(2026)
n = 300
x = np.round(rng.normal(0.0, 2.0, n), 4)
y = np.round(rng.normal(1.0, 1.0, n), 4)
z = np.round(np.sin(x) + rng.normal(0, 0.1, n), 4)
x[:4] = [-5.0, 5.0, 0.0, np.nan]      # canvas corners and a NaN
y[:4] = [-2.0, 4.0, 1.0, 0.5]
z[5] = np.nan
xyz = np.column_stack([x, y, z])

# Text: whitespace with a comment header; CSV with a header, CRLF and quotes.
np.savetxt("points.txt", xyz, fmt="%.6g", header="points for densebin's tests\nx y z")
with open("points.csv", "w", newline="") as f:
    f.write('id,x,y,z,"label, quoted"\r\n')
    for i, (a, b, c) in enumerate(xyz):
        f.write(f'{i},{float(a)!r},{float(b)!r},{float(c)!r},"pt ""{i}"""\r\n')

# Binary: what numpy writes.
xyz.astype(np.float32).tofile("points.f32")
np.save("points_f4.npy", xyz.astype(np.float32))
np.save("points_f8_be.npy", xyz.astype(">f8"))
rec = np.zeros(n, dtype=[("id", "<i8"), ("lon", "<f8"), ("lat", "<f4"), ("depth", "<f8")])
rec["id"], rec["lon"], rec["lat"], rec["depth"] = np.arange(n), x, y, z
np.save("structured.npy", rec)

# Bad inputs.
np.save("fortran.npy", np.asfortranarray(xyz[:10]))
np.save("int.npy", np.arange(30, dtype=np.int32).reshape(10, 3))
xyz[:10].astype(np.float32).tofile("odd_size.f32")
with open("odd_size.f32", "ab") as f:
    f.write(b"\x00\x01")
with open("bad_number.txt", "w") as f:
    f.write("1 2 3\n4 5 6\n7 1.2.3 9\n")
with open("header_only.csv", "w") as f:
    f.write("x,y,z\n")

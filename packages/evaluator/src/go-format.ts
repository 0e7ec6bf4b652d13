/**
 * Formats a JSON value the way Go's `fmt.Sprintf("%v", v)` does for the values flagd's `sem_ver` stringifies
 * (context numbers arrive as float64). Only numbers, strings and booleans matter there; anything else yields a
 * string that no version parser accepts.
 */

/**
 * Go `%v` of a float64: `%g` with the shortest round-tripping digits, which Go (strconv, "shortest" mode) writes
 * in exponent form when the decimal exponent is < -4 or >= 6 (`1e+06`, `1.5e-05`), else in plain form (`1.2`).
 */
export function goFormatNumber(value: number): string {
	if (Number.isNaN(value)) return "NaN";
	if (value === Number.POSITIVE_INFINITY) return "+Inf";
	if (value === Number.NEGATIVE_INFINITY) return "-Inf";
	if (Object.is(value, -0)) return "-0";
	// toExponential() without digits gives the shortest round-tripping mantissa, like Go's shortest formatting.
	const [mantissa = "0", exponentText = "0"] = value.toExponential().split("e");
	const exponent = Number(exponentText);
	// strconv.FormatFloat(v, 'g', -1, 64) sets eprec = 6 in shortest mode; in the plain range JS and Go print the
	// same shortest digits, so String() is exact there.
	if (exponent < -4 || exponent >= 6) {
		const sign = exponent < 0 ? "-" : "+";
		const digits = String(Math.abs(exponent)).padStart(2, "0");
		return `${mantissa}e${sign}${digits}`;
	}
	return String(value);
}

/** Go `%v` of a decoded JSON value, for the scalar cases flagd's operators meet. */
export function goFormatValue(value: unknown): string {
	if (typeof value === "string") return value;
	if (typeof value === "number") return goFormatNumber(value);
	if (typeof value === "boolean") return value ? "true" : "false";
	if (value === null || value === undefined) return "<nil>";
	// Maps/slices print as map[...]/[...] in Go: never a valid version, which is all that matters here.
	return `[${String(value)}]`;
}

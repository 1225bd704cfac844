/**
 * ISO 4217 minor-unit exponents (JPY 0, EUR 2, KWD 3, CLF 4): what an amount in minor units means.
 * Shared by the payments plugin (which checks every amount against it) and the offline planner
 * (which turns "12.50 EUR" into "1250"); a currency missing here is refused by both, never guessed.
 */
const exponentZero = 'BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF';
const exponentThree = 'BHD IQD JOD KWD LYD OMR TND';
const exponentFour = 'CLF UYW';
const exponentTwo =
  'AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN BZD CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK ' +
  'DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL ' +
  'MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK ' +
  'SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG';

const exponents: ReadonlyMap<string, number> = new Map([
  ...exponentZero.split(' ').map((code) => [code, 0] as const),
  ...exponentTwo.split(' ').map((code) => [code, 2] as const),
  ...exponentThree.split(' ').map((code) => [code, 3] as const),
  ...exponentFour.split(' ').map((code) => [code, 4] as const),
]);

/** The exponent of an ISO 4217 code (upper case), or undefined for a code this table does not hold. */
export function currencyExponent(code: string): number | undefined {
  return exponents.get(code);
}

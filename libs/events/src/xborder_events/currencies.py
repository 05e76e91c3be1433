"""ISO 4217 currencies and their minor units (decimal places), from the ISO 4217 list of 2025.

Only currencies in circulation are listed; funds and precious-metal codes without minor units
(XAU, XDR, XTS, the "no currency" code, ...) are not money that xborder moves.
"""

from types import MappingProxyType
from typing import Final

_ZERO = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
_THREE = "BHD IQD JOD KWD LYD OMR TND"
_FOUR = "CLF UYW"
_TWO = (
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN"
    " BZD CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP"
    " GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP"
    " LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR"
    " NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN"
    " SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR"
    " ZMW ZWG"
)

#: Minor units per ISO 4217 alphabetic code: JPY has 0 decimal places, USD 2, KWD 3.
MINOR_UNITS: Final = MappingProxyType(
    {
        code: places
        for codes, places in ((_ZERO, 0), (_TWO, 2), (_THREE, 3), (_FOUR, 4))
        for code in codes.split()
    }
)

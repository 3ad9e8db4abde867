"""QQ through OneBot v11 (NapCat and compatible): HTTP or reverse WebSocket."""

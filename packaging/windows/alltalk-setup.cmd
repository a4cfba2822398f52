@echo off
rem AllTalk Setup (installed by alltalk-launch's installer): makes AllTalk's Python environment in
rem this folder with `alltalk-launch setup --yes`, in a console window that stays open at the end
rem so that its outcome can be read. Arguments are passed on (e.g. --gpu cpu, --installer uv).
setlocal
cd /d "%~dp0"
"%~dp0alltalk-launch.exe" setup --yes %*
set "ALLTALK_SETUP_STATUS=%ERRORLEVEL%"
echo.
if "%ALLTALK_SETUP_STATUS%"=="0" (
  echo AllTalk's environment is ready: start AllTalk with the "AllTalk Server" shortcut.
) else (
  echo alltalk-launch setup ended with status %ALLTALK_SETUP_STATUS%: read the message above.
)
pause
exit /b %ALLTALK_SETUP_STATUS%
